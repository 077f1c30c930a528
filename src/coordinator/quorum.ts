/**
 * Quorum trackers for one key's read or write across its preference list. Pure: responses
 * come in as calls; the tracker says when the quorum is met or can no longer be met.
 * A replica counts once (network duplicates are ignored) and only preference-list replicas
 * count (strict quorum).
 */
import { assert } from '../util/assert.js';
import { compareRecordVersions, type StoredRecord } from '../storage/record.js';

export type QuorumOutcome = 'pending' | 'met' | 'impossible';

/**
 * Replica states are bit masks over the preference list (N is at most 16, see the
 * replication-factor directive): a quorum is built for every key of every distributed
 * operation, and Sets per quorum were a visible share of the coordinator's allocations.
 */
abstract class Quorum {
  protected answeredMask = 0;
  protected failedMask = 0;
  protected answeredCount = 0;
  protected failedCount = 0;

  constructor(readonly replicas: readonly string[], readonly required: number) {
    assert(required >= 1, 'a quorum needs at least one replica');
    assert(replicas.length <= 30, 'a preference list fits a bit mask');
  }

  get outcome(): QuorumOutcome {
    if (this.answeredCount >= this.required) return 'met';
    if (this.replicas.length - this.failedCount < this.required) return 'impossible';
    return 'pending';
  }

  /** Replicas that answered successfully. */
  get successes(): number {
    return this.answeredCount;
  }

  /** Replicas that failed. */
  get failures(): number {
    return this.failedCount;
  }

  /** Replicas that answered or failed. */
  get responses(): number {
    return this.answeredCount + this.failedCount;
  }

  /** True once every replica answered or failed. */
  get complete(): boolean {
    return this.answeredCount + this.failedCount === this.replicas.length;
  }

  fail(replica: string): void {
    const bit = this.bitOf(replica);
    if (bit === 0 || (this.answeredMask & bit) !== 0 || (this.failedMask & bit) !== 0) return;
    this.failedMask |= bit;
    this.failedCount++;
  }

  /** The replica's bit in the masks; 0 for a replica outside the preference list. */
  protected bitOf(replica: string): number {
    const index = this.replicas.indexOf(replica);
    return index === -1 ? 0 : 1 << index;
  }

  /** Counts the replica's answer; returns its position, or -1 if it cannot count. */
  protected accept(replica: string): number {
    const index = this.replicas.indexOf(replica);
    const bit = index === -1 ? 0 : 1 << index;
    if (bit === 0 || ((this.answeredMask | this.failedMask) & bit) !== 0) return -1;
    this.answeredMask |= bit;
    this.answeredCount++;
    return index;
  }
}

export class WriteQuorum extends Quorum {
  /** Failed replicas whose write is kept as a durable hint (sloppy quorum counts them). */
  private hintedMask = 0;
  private hintedCount = 0;
  /** Failed replicas whose hint was refused (a bound, hints off) or did not become durable. */
  private unhintedMask = 0;
  private unhintedCount = 0;

  constructor(replicas: readonly string[], required: number, private readonly sloppy = false) {
    super(replicas, required);
  }

  ack(replica: string): void {
    this.accept(replica);
  }

  /** The write for a failed replica is durable as a hint on this coordinator. */
  hint(replica: string): void {
    const bit = this.bitOf(replica);
    if (bit === 0 || (this.answeredMask & bit) !== 0 || (this.hintedMask & bit) !== 0) return;
    this.hintedMask |= bit;
    this.hintedCount++;
  }

  /** The hint for a failed replica was refused or failed: it can never stand in. */
  unhintable(replica: string): void {
    const bit = this.bitOf(replica);
    if (bit === 0 || (this.answeredMask & bit) !== 0 || (this.unhintedMask & bit) !== 0) {
      return;
    }
    this.unhintedMask |= bit;
    this.unhintedCount++;
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
    const answered = this.answeredCount;
    if (answered >= 1 && answered + this.hintedCount >= this.required) return 'met';
    if (this.complete && answered === 0) return 'impossible';
    if (this.replicas.length - this.unhintedCount < this.required) return 'impossible';
    return 'pending';
  }

  /** Whether `replica` neither answered nor failed yet. */
  isPending(replica: string): boolean {
    const bit = this.bitOf(replica);
    return bit !== 0 && ((this.answeredMask | this.failedMask) & bit) === 0;
  }

  /** Replicas that neither answered nor failed yet. */
  pendingReplicas(): string[] {
    return this.replicas.filter((replica) => this.isPending(replica));
  }
}

export class ReadQuorum extends Quorum {
  /** Answers by preference-list position (undefined: no answer). */
  private readonly records: Array<StoredRecord | null | undefined>;
  private newestRecord: StoredRecord | null = null;

  constructor(replicas: readonly string[], required: number) {
    super(replicas, required);
    this.records = new Array(replicas.length);
  }

  /** A replica's answer: its record for the key (tombstones included) or null for none. */
  respond(replica: string, record: StoredRecord | null): void {
    const index = this.accept(replica);
    if (index === -1) return;
    this.records[index] = record;
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
    for (let index = 0; index < this.replicas.length; index++) {
      if ((this.answeredMask & (1 << index)) === 0) continue;
      const record = this.records[index];
      if (record === null || record === undefined ||
          compareRecordVersions(record.bytes, newest.bytes) < 0) {
        stale.push(this.replicas[index] as string);
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
  const order = compareRecordVersions(record.bytes, newest.bytes);
  return order > 0 || (order === 0 && record.tombstone && !newest.tombstone);
}
