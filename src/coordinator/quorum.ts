/**
 * Quorum trackers for one key's read or write across its preference list. Pure: responses
 * come in as calls; the tracker says when the quorum is met or can no longer be met.
 * A replica counts once (network duplicates are ignored) and only preference-list replicas
 * count (strict quorum).
 */
import { assert } from '../util/assert.js';
import type { StoredRecord } from '../storage/record.js';
import { compareVersions } from '../versioning/version.js';

export type QuorumOutcome = 'pending' | 'met' | 'impossible';

abstract class Quorum {
  protected readonly answered = new Set<string>();
  protected readonly failed = new Set<string>();

  constructor(readonly replicas: readonly string[], readonly required: number) {
    assert(required >= 1, 'a quorum needs at least one replica');
  }

  get outcome(): QuorumOutcome {
    if (this.answered.size >= this.required) return 'met';
    if (this.replicas.length - this.failed.size < this.required) return 'impossible';
    return 'pending';
  }

  /** Replicas that answered successfully. */
  get successes(): number {
    return this.answered.size;
  }

  /** Replicas that failed. */
  get failures(): number {
    return this.failed.size;
  }

  /** Replicas that answered or failed. */
  get responses(): number {
    return this.answered.size + this.failed.size;
  }

  /** True once every replica answered or failed. */
  get complete(): boolean {
    return this.answered.size + this.failed.size === this.replicas.length;
  }

  fail(replica: string): void {
    if (!this.replicas.includes(replica) || this.answered.has(replica)) return;
    this.failed.add(replica);
  }

  protected accept(replica: string): boolean {
    if (!this.replicas.includes(replica) || this.answered.has(replica) ||
        this.failed.has(replica)) {
      return false;
    }
    this.answered.add(replica);
    return true;
  }
}

export class WriteQuorum extends Quorum {
  /** Failed replicas whose write is kept as a durable hint (sloppy quorum counts them). */
  private readonly hinted = new Set<string>();
  /** Failed replicas whose hint was refused (a bound, hints off) or did not become durable. */
  private readonly unhinted = new Set<string>();

  constructor(replicas: readonly string[], required: number, private readonly sloppy = false) {
    super(replicas, required);
  }

  ack(replica: string): void {
    this.accept(replica);
  }

  /** The write for a failed replica is durable as a hint on this coordinator. */
  hint(replica: string): void {
    if (this.replicas.includes(replica) && !this.answered.has(replica)) this.hinted.add(replica);
  }

  /** The hint for a failed replica was refused or failed: it can never stand in. */
  unhintable(replica: string): void {
    if (this.replicas.includes(replica) && !this.answered.has(replica)) {
      this.unhinted.add(replica);
    }
  }

  /**
   * Strict: only replicas count. Sloppy: hints stand in for failed replicas, as long as at
   * least one replica really acknowledged (a write is never only in hints); until the
   * hints of failed replicas are durable the outcome stays pending (the request timeout
   * bounds the wait). Replicas whose hint was refused count for nothing: without that, a
   * refused hint left the outcome pending for good (no reply, the key locked forever).
   */
  override get outcome(): QuorumOutcome {
    const strict = super.outcome;
    if (!this.sloppy || strict === 'met') return strict;
    const answered = this.answered.size;
    if (answered >= 1 && answered + this.hinted.size >= this.required) return 'met';
    if (this.complete && answered === 0) return 'impossible';
    if (this.replicas.length - this.unhinted.size < this.required) return 'impossible';
    return 'pending';
  }

  /** Whether `replica` neither answered nor failed yet. */
  isPending(replica: string): boolean {
    return !this.answered.has(replica) && !this.failed.has(replica);
  }

  /** Replicas that neither answered nor failed yet. */
  pendingReplicas(): string[] {
    return this.replicas.filter((replica) => this.isPending(replica));
  }
}

export class ReadQuorum extends Quorum {
  private readonly records = new Map<string, StoredRecord | null>();
  private newestRecord: StoredRecord | null = null;

  /** A replica's answer: its record for the key (tombstones included) or null for none. */
  respond(replica: string, record: StoredRecord | null): void {
    if (!this.accept(replica)) return;
    this.records.set(replica, record);
    if (record !== null && (this.newestRecord === null || isNewer(record, this.newestRecord))) {
      this.newestRecord = record;
    }
  }

  /** The newest record among the answers (last write wins), or null when none had one. */
  get newest(): StoredRecord | null {
    return this.newestRecord;
  }

  /** Replicas that answered with something older than the newest record (read repair). */
  staleReplicas(): string[] {
    const newest = this.newestRecord;
    if (newest === null) return [];
    const stale: string[] = [];
    for (const [replica, record] of this.records) {
      if (record === null || compareVersions(record.version, newest.version) < 0) {
        stale.push(replica);
      }
    }
    return stale;
  }
}

/**
 * Last write wins. One version can be both a value and a tombstone: a replica turns an
 * expired value into a tombstone of the same version while another has not yet. The
 * tombstone wins, so the answer does not depend on which replica answered first.
 */
function isNewer(record: StoredRecord, newest: StoredRecord): boolean {
  const order = compareVersions(record.version, newest.version);
  return order > 0 || (order === 0 && record.tombstone && !newest.tombstone);
}
