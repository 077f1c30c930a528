/**
 * One KeyOperation coordinated across replicas (DESIGN.md section 5): read every key from
 * R replicas of its preference list (this node first when it is one; another replica for
 * each that fails; all of them after a speculative-retry delay, or with the read-repair
 * chance) and wait for R answers, apply the operation to the newest values, write each
 * change to its whole preference list and wait for W acknowledgements, then reply.
 * Answers arriving after the quorum still count for read repair: replicas asked that
 * returned an older record (or none) get the newest one written back.
 *
 * Keys are read and written independently (multi-key commands are not atomic across slots).
 * An operation ends with the reply, an error naming the required and achieved replica
 * counts, or the request timeout, whichever comes first.
 */
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { DurabilityListener } from '../storage/engine.js';
import type { Listed } from '../util/indexed-list.js';
import type { KeyLock, LockHolder } from './key-locks.js';
import { StoredRecord, recordProblem } from '../storage/record.js';
import type { Change, KeyOperation, LiveValue, ReplyTarget } from './key-value-service.js';
import { ReadQuorum, WriteQuorum } from './quorum.js';

/** Where one key lives: its slot, database and preference list (coordinator first). */
export interface KeyPlan {
  readonly key: Buffer;
  readonly db: number;
  readonly slot: number;
  readonly replicas: readonly string[];
  readonly readRequired: number;
  readonly writeRequired: number;
  /** Hints may stand in for failed replicas in the write quorum (sloppy quorum). */
  readonly sloppy: boolean;
}

/** What an operation needs from the coordinator that runs it. */
export interface OperationContext {
  readonly selfId: string;
  readonly replicationFactor: number;
  isDown(replica: string): boolean;
  /** Reads the local replica's record (a copy the operation may keep). */
  readLocal(plan: KeyPlan): StoredRecord | null;
  /** Stores a record on the local replica if newer; tells `listener` when durable. */
  writeLocal(plan: KeyPlan, record: StoredRecord, listener: DurabilityListener,
    token: unknown): void;
  /** Sends a PEER.* request to a replica; the callback gets an error or the reply. */
  sendToPeer(replica: string, args: Array<Buffer | string>,
    callback: (error: Error | null, reply: unknown) => void): void;
  /** Builds the record for a change, versioned after every version read. */
  recordFor(plan: KeyPlan, change: Exclude<Change, null>, read: StoredRecord | null,
    nowMs: number): StoredRecord;
  nowMs(): number;
  finished(operation: DistributedOperation): void;
  /** The reply is written (success or error): later operations on its keys may start. */
  replied(operation: DistributedOperation): void;
  countReadRepair(): void;
  /**
   * Whether this read asks every replica, not just R of them: the read-repair chance
   * (replicas not asked are not repaired by the read; anti-entropy covers them).
   */
  readAll(): boolean;
  /**
   * Keeps the write for a replica that failed as a durable hint; `listener` hears (with
   * `token`) when the hint is durable. False when hints are off or a bound refused it.
   */
  hint(replica: string, plan: KeyPlan, record: StoredRecord, listener: DurabilityListener,
    token: unknown): boolean;
}

type Phase = 'reading' | 'writing' | 'done';

export class DistributedOperation implements DurabilityListener, LockHolder, Listed {
  /** The coordinator's bookkeeping: the operation's key lock and place in flight. */
  keyLock: KeyLock | null = null;
  listIndex = -1;
  private phase: Phase = 'reading';
  /**
   * Per key: its read quorum, the replicas in the order they are asked (this node first,
   * then preference order) and how many of them were asked. A read asks R replicas, one
   * more for each that fails, and the rest when `speculate` runs (a replica slow to
   * answer). A blind write (plain SET) reads nothing: these stay empty, shared arrays, so
   * the most common cluster write allocates none of them (fewer scavenges under load).
   */
  private readonly reads: ReadQuorum[] = NO_READS;
  private readonly readOrder: Array<readonly string[]> = NO_READ_ORDER;
  private readonly asked: number[] = NO_COUNTS;
  private readonly askedWanted: number[] = NO_COUNTS;
  /** Per key, set when the operation writes: its write quorum and the record written. */
  private writes: Array<WriteQuorum | null> = NO_WRITES;
  /** The records written (kept to hint replicas that fail). */
  private records: Array<StoredRecord | null> = NO_RECORDS;
  private repaired = false;
  /** Set when the operation starts (it may wait for earlier operations on its keys). */
  deadlineMs = Number.POSITIVE_INFINITY;
  /** When the operation started (monotonic ms), for the speculative retry of reads. */
  startedMs = 0;
  private readonly slot: unknown;

  constructor(
    private readonly context: OperationContext,
    private readonly target: ReplyTarget,
    private readonly operation: KeyOperation,
    private readonly plans: readonly KeyPlan[],
  ) {
    this.slot = target.defer();
    if (operation.readsValues) {
      this.reads = plans.map((plan) => new ReadQuorum(plan.replicas, plan.readRequired));
      this.readOrder = new Array(plans.length);
      this.asked = new Array(plans.length);
      this.askedWanted = new Array(plans.length);
    }
  }

  start(): void {
    if (!this.operation.readsValues) {
      this.applyAndWrite();
      return;
    }
    const readAll = this.context.readAll();
    this.plans.forEach((plan, index) => this.readKey(plan, index, readAll));
    this.checkReads();
  }

  /** True while some key still waits for its read quorum (speculative retry applies). */
  get waitingForReads(): boolean {
    return this.phase === 'reading';
  }

  /**
   * The replicas asked have been slow to answer: ask every replica not asked yet (cf.
   * Cassandra's speculative retry), so a replica paused but not yet known down costs a
   * read this delay, not the request timeout.
   */
  speculate(): void {
    if (this.phase !== 'reading') return;
    for (let index = 0; index < this.reads.length; index++) {
      if ((this.reads[index] as ReadQuorum).outcome !== 'pending') continue;
      this.askedWanted[index] = (this.readOrder[index] as readonly string[]).length;
      this.askMore(index);
    }
    this.checkReads();
  }

  /** The request timeout passed: every replica that has not answered counts as failed. */
  timeout(): void {
    if (this.phase === 'done') {
      // Replied already; stop waiting for the answers read repair wanted.
      this.end();
      return;
    }
    for (const quorum of this.reads) for (const replica of quorum.replicas) quorum.fail(replica);
    this.writes.forEach((quorum, index) => {
      if (quorum === null) return;
      // Replicas that did not answer in time may have missed the write: hint them.
      for (const replica of quorum.pendingReplicas()) this.failReplica(index, replica);
      for (const replica of quorum.replicas) quorum.fail(replica);
    });
    if (this.phase === 'reading') this.checkReads(true);
    else this.checkWrites(true);
    this.maybeRepair();
    this.end();
  }

  /** Durability of the local replica's write (token = key index) or of a hint. */
  durable(token: unknown, error: Error | null): void {
    if (typeof token === 'object' && token !== null) {
      const { index, replica } = token as HintToken;
      if (error === null) this.writes[index]?.hint(replica);
      else this.writes[index]?.unhintable(replica);
      this.checkWrites();
      return;
    }
    const quorum = this.writes[token as number];
    if (quorum === undefined || quorum === null) return;
    if (error === null) quorum.ack(this.context.selfId);
    else quorum.fail(this.context.selfId);
    this.checkWrites();
  }

  /** A replica will not take the write now: count it failed and keep a hint for it. */
  private failReplica(index: number, replica: string): void {
    const quorum = this.writes[index] as WriteQuorum;
    const record = this.records[index];
    quorum.fail(replica);
    if (record === undefined || record === null) return;
    const token: HintToken = { index, replica };
    if (!this.context.hint(replica, this.plans[index] as KeyPlan, record, this, token)) {
      quorum.unhintable(replica);
    }
  }

  private readKey(plan: KeyPlan, index: number, readAll: boolean): void {
    const quorum = this.reads[index] as ReadQuorum;
    const self = this.context.selfId;
    const local = plan.replicas.includes(self);
    if (plan.readRequired === 1 && local) {
      // ONE with a local replica: the local answer is the read (no remote round trip).
      quorum.respond(self, this.context.readLocal(plan));
      for (const replica of plan.replicas) if (replica !== self) quorum.fail(replica);
      this.readOrder[index] = plan.replicas;
      this.asked[index] = plan.replicas.length;
      this.askedWanted[index] = plan.replicas.length;
      return;
    }
    // With --cluster routing the coordinator is usually first already: no new array.
    this.readOrder[index] = local && plan.replicas[0] !== self
      ? [self, ...plan.replicas.filter((replica) => replica !== self)] : plan.replicas;
    this.asked[index] = 0;
    this.askedWanted[index] = readAll ? plan.replicas.length : plan.readRequired;
    this.askMore(index);
  }

  /**
   * Asks replicas in order until as many are answering or in flight as wanted (a replica
   * that failed does not count), or every replica was asked.
   */
  private askMore(index: number): void {
    const quorum = this.reads[index] as ReadQuorum;
    const order = this.readOrder[index] as readonly string[];
    const plan = this.plans[index] as KeyPlan;
    const wanted = this.askedWanted[index] as number;
    for (;;) {
      // Re-read each time: a send that fails at once re-enters through onRead.
      const asked = this.asked[index] as number;
      if (asked >= order.length || asked - quorum.failures >= wanted) return;
      const replica = order[asked] as string;
      this.asked[index] = asked + 1;
      if (replica === this.context.selfId) {
        quorum.respond(replica, this.context.readLocal(plan));
      } else if (this.context.isDown(replica)) {
        quorum.fail(replica);
      } else {
        this.context.sendToPeer(replica, ['PEER.GET', String(plan.db), plan.key],
          (error, reply) => this.onRead(index, replica, error, reply));
      }
    }
  }

  /** Every replica asked for a key has answered or failed, and no more will be asked. */
  private readSettled(index: number): boolean {
    const quorum = this.reads[index] as ReadQuorum;
    const asked = this.asked[index] as number;
    if (quorum.responses < asked) return false;
    return quorum.outcome !== 'pending' || asked === (this.readOrder[index] as string[]).length;
  }

  private onRead(index: number, replica: string, error: Error | null, reply: unknown): void {
    const quorum = this.reads[index] as ReadQuorum;
    if (error !== null) quorum.fail(replica);
    else if (reply === null) quorum.respond(replica, null);
    else if (Buffer.isBuffer(reply) && recordProblem(reply) === null) {
      quorum.respond(replica, new StoredRecord(reply));
    } else {
      quorum.fail(replica);
    }
    // A replica that failed is replaced by the next one not asked yet.
    if (this.phase === 'reading' && quorum.outcome === 'pending') this.askMore(index);
    if (this.phase === 'reading') this.checkReads();
    this.maybeRepair();
    this.maybeEnd();
  }

  /** Moves on once every key's read quorum is met; fails once one cannot be. */
  private checkReads(timedOut = false): void {
    if (this.phase !== 'reading') return;
    let met = 0;
    for (let index = 0; index < this.reads.length; index++) {
      const quorum = this.reads[index] as ReadQuorum;
      const outcome = quorum.outcome;
      // An impossible quorum fails once every replica still able to answer has (or the
      // timeout failed it), so the error counts what the replicas really did: failing at a
      // known-down replica used to report "0 of 3" while the live ones were answering.
      if (outcome === 'impossible' && !this.readSettled(index)) continue;
      if (outcome === 'impossible') {
        const plan = this.plans[index] as KeyPlan;
        this.fail(`CLUSTERDOWN read quorum not reached${timedOut ? ' (timed out)' : ''}: ` +
          `${quorum.successes} of ${plan.readRequired} required replicas answered ` +
          `(replication factor ${this.context.replicationFactor})`);
        return;
      }
      if (outcome === 'met') met++;
    }
    if (met === this.reads.length) this.applyAndWrite();
  }

  private applyAndWrite(): void {
    this.phase = 'writing';
    const nowMs = this.context.nowMs();
    const values: Array<LiveValue | undefined> = new Array(this.plans.length);
    for (let index = 0; index < this.reads.length; index++) {
      const newest = (this.reads[index] as ReadQuorum).newest;
      values[index] = newest !== null && newest.isLive(nowMs) ? newest : undefined;
    }
    const changes = this.operation.apply(values, nowMs);
    this.writes = new Array<WriteQuorum | null>(this.plans.length).fill(null);
    this.records = new Array<StoredRecord | null>(this.plans.length).fill(null);
    for (let index = 0; index < changes.length; index++) {
      const change = changes[index] as Change;
      if (change === null) continue;
      const plan = this.plans[index] as KeyPlan;
      const record = this.context.recordFor(plan, change, this.reads[index]?.newest ?? null,
        nowMs);
      this.writes[index] = new WriteQuorum(plan.replicas, plan.writeRequired, plan.sloppy);
      this.writeKey(plan, index, record);
    }
    this.checkWrites();
  }

  private writeKey(plan: KeyPlan, index: number, record: StoredRecord): void {
    const quorum = this.writes[index] as WriteQuorum;
    this.records[index] = record;
    let request: Array<Buffer | string> | null = null;
    for (const replica of plan.replicas) {
      if (replica === this.context.selfId) {
        this.context.writeLocal(plan, record, this, index);
      } else if (this.context.isDown(replica)) {
        this.failReplica(index, replica);
      } else {
        // One request for every replica (peer clients encode it, and do not keep it).
        request ??= ['PEER.PUT', String(plan.db), plan.key, record.bytes];
        this.context.sendToPeer(replica, request,
          (error) => {
            // Already settled by the timeout (which hinted it): nothing more to do.
            if (!quorum.isPending(replica)) return;
            if (error === null) quorum.ack(replica);
            else this.failReplica(index, replica);
            this.checkWrites();
          });
      }
    }
  }

  /** Replies once every written key has its write quorum; fails once one cannot. */
  private checkWrites(timedOut = false): void {
    if (this.phase !== 'writing') return;
    let met = 0;
    let needed = 0;
    for (let index = 0; index < this.writes.length; index++) {
      const quorum = this.writes[index];
      if (quorum === null || quorum === undefined) continue;
      needed++;
      const outcome = quorum.outcome;
      // As for reads: name the acknowledgements once every live replica has answered.
      if (outcome === 'impossible' && !quorum.complete) continue;
      // At the timeout every operation replies: a sloppy quorum still waiting for a hint
      // to become durable has not been met (it used to stay unanswered, its keys locked).
      if (outcome === 'impossible' || (timedOut && outcome === 'pending')) {
        this.fail(`NOREPLICAS write quorum not reached${timedOut ? ' (timed out)' : ''}: ` +
          `${quorum.successes} of ${quorum.required} required replicas acknowledged ` +
          `(replication factor ${this.context.replicationFactor})`);
        return;
      }
      if (outcome === 'met') met++;
    }
    if (met === needed) this.succeed();
  }

  private succeed(): void {
    this.phase = 'done';
    this.operation.reply(this.writer());
    this.target.fill(this.slot);
    this.context.replied(this);
    this.maybeEnd();
  }

  private fail(message: string): void {
    this.phase = 'done';
    this.writer().error(message);
    this.target.fill(this.slot);
    this.context.replied(this);
    this.maybeEnd();
  }

  private writer(): ReplyWriter {
    return this.target.deferredWriter(this.slot);
  }

  /** Once every replica answered a read, write the newest record back to stale ones. */
  private maybeRepair(): void {
    if (this.repaired || !this.operation.readsValues) return;
    for (let index = 0; index < this.reads.length; index++) {
      if (!this.readSettled(index)) return;
    }
    this.repaired = true;
    this.reads.forEach((quorum, index) => {
      const newest = quorum.newest;
      if (newest === null) return;
      const plan = this.plans[index] as KeyPlan;
      for (const replica of quorum.staleReplicas()) {
        this.context.countReadRepair();
        if (replica === this.context.selfId) {
          this.context.writeLocal(plan, newest, NO_LISTENER, null);
        } else {
          this.context.sendToPeer(replica, ['PEER.PUT', String(plan.db), plan.key,
            newest.bytes], () => undefined);
        }
      }
    });
  }

  private maybeEnd(): void {
    if (this.phase !== 'done') return;
    const readsDone = !this.operation.readsValues || this.repaired ||
      this.reads.every((_, index) => this.readSettled(index));
    if (readsDone) this.end();
  }

  private end(): void {
    if (this.phase !== 'done') this.phase = 'done';
    this.context.finished(this);
  }
}

/** The empty arrays operations share until they read or write: never written to. */
const NO_READS: ReadQuorum[] = [];
const NO_READ_ORDER: Array<readonly string[]> = [];
const NO_COUNTS: number[] = [];
const NO_WRITES: Array<WriteQuorum | null> = [];
const NO_RECORDS: Array<StoredRecord | null> = [];

interface HintToken {
  index: number;
  replica: string;
}

const NO_LISTENER: DurabilityListener = { durable: () => undefined };
