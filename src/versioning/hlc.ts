/**
 * Hybrid logical clock (Kulkarni et al.): readings follow wall-clock time, never go
 * backwards, and move past any version seen from a peer, so a write that causally follows
 * another always gets a larger version even when clocks are skewed. Pure: time comes in.
 */
import { assert } from '../util/assert.js';
import type { Version } from './version.js';

const LOGICAL_MAX = 0xffff;
/** The physical part is stored in 48 bits. */
const PHYSICAL_MAX = 2 ** 48 - 1;

export class HybridLogicalClock {
  private physicalMs = 0;
  private logical = 0;

  constructor(readonly nodeTag: number) {
    assert(Number.isInteger(nodeTag) && nodeTag >= 0 && nodeTag <= 0xffffffff, 'node tag is u32');
  }

  /** A new version for a local write at wall-clock time `nowMs`. */
  now(nowMs: number): Version {
    if (nowMs > this.physicalMs) {
      this.physicalMs = Math.min(nowMs, PHYSICAL_MAX);
      this.logical = 0;
    } else if (this.logical < LOGICAL_MAX) {
      this.logical++;
    } else {
      // 65536 writes in one millisecond: borrow the next millisecond rather than wrap.
      this.physicalMs++;
      this.logical = 0;
    }
    return { physicalMs: this.physicalMs, logical: this.logical, nodeTag: this.nodeTag };
  }

  /**
   * Moves the clock past a version received from a peer or read. A StoredRecord is a
   * Version (its getters read the bytes): callers pass the record, not a copy per write.
   */
  observe(version: Version): void {
    if (version.physicalMs > this.physicalMs ||
        (version.physicalMs === this.physicalMs && version.logical > this.logical)) {
      this.physicalMs = version.physicalMs;
      this.logical = version.logical;
    }
  }
}
