/**
 * Data movement on membership change (DESIGN.md section 7). When the ring changes, each
 * node pulls the slots it gained from the replicas that held them before (a node joining,
 * or replicas rebuilt elsewhere after CLUSTER FORGET of a dead node); writes already reach
 * it through the new ring meanwhile. A node leaving (CLUSTER LEAVE) pushes each slot it
 * held to the nodes that gain it before it goes. Slots move one at a time, throttled by the
 * repairer; progress is visible in INFO.
 */
import type { Logger } from 'pino';
import type { Ring } from '../cluster/ring.js';
import type { PeerCall, Repairer } from '../antientropy/repairer.js';
import type { RepairPeers } from '../antientropy/scheduler.js';

export interface StreamingProgress {
  /** 'idle', 'joining' (pulling gained slots) or 'leaving' (handing slots off). */
  state: 'idle' | 'pulling' | 'handing-off';
  slotsTotal: number;
  slotsDone: number;
  slotsFailed: number;
}

/**
 * Slots streamed at once. One at a time, each slot waited out its round trips to every
 * peer: a joining node's ~8000 slots (mostly empty) took ~18 s on a loaded 2-core machine.
 * A few in flight overlap the round trips; the repairer's byte budget still bounds the rate.
 */
const SLOTS_IN_FLIGHT_MAX = 8;

interface Task {
  slot: number;
  peers: string[];
  direction: 'pull' | 'push';
}

function membersOf(ring: Ring, slot: number): string[] {
  return ring.preferenceList(slot).map((index) => (ring.members[index] as { id: string }).id);
}

/** Slots where `self` is a replica in `next` but was not in `previous`, with old holders. */
export function gainedSlots(previous: Ring, next: Ring, self: string): Task[] {
  const tasks: Task[] = [];
  for (let slot = 0; slot < 16384; slot++) {
    const now = membersOf(next, slot);
    if (!now.includes(self)) continue;
    const before = membersOf(previous, slot);
    if (before.includes(self) || before.length === 0) continue;
    tasks.push({ slot, peers: before, direction: 'pull' });
  }
  return tasks;
}

/** For each slot `self` holds in `withSelf`, the members that gain it in `without`. */
export function handOffSlots(withSelf: Ring, without: Ring, self: string): Task[] {
  const tasks: Task[] = [];
  for (let slot = 0; slot < 16384; slot++) {
    const before = membersOf(withSelf, slot);
    if (!before.includes(self)) continue;
    const gainers = membersOf(without, slot).filter((id) => !before.includes(id));
    if (gainers.length > 0) tasks.push({ slot, peers: gainers, direction: 'push' });
  }
  return tasks;
}

export class Streaming {
  readonly progress: StreamingProgress = { state: 'idle', slotsTotal: 0, slotsDone: 0,
    slotsFailed: 0 };
  private tasks: Task[] = [];
  /** The next task to take (a cursor, not shift(): joins queue thousands of slots). */
  private nextTask = 0;
  /** Workers taking tasks from the queue (at most SLOTS_IN_FLIGHT_MAX). */
  private workers = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly repairer: Repairer,
    private readonly peers: RepairPeers,
    private readonly logger: Logger,
    /**
     * Runs when pulling gained slots finished. Coordinators that had not yet heard of the
     * ring change sent some writes only to the old replicas, after this node pulled their
     * slot; the composition starts an anti-entropy pass here to fetch those.
     */
    private readonly afterPull: () => void = () => undefined,
  ) {}

  /** The ring changed: pull what this node gained. */
  ringChanged(previous: Ring, next: Ring): void {
    const tasks = gainedSlots(previous, next, this.peers.selfId);
    if (tasks.length === 0) return;
    this.logger.info({ slots: tasks.length }, 'ring changed: pulling gained slots');
    this.enqueue(tasks, 'pulling');
  }

  /** Hands every slot this node holds to the nodes that gain it without it. */
  async handOff(withSelf: Ring, without: Ring): Promise<void> {
    const tasks = handOffSlots(withSelf, without, this.peers.selfId);
    this.logger.info({ slots: tasks.length }, 'leaving: handing slots off');
    this.enqueue(tasks, 'handing-off');
    await new Promise<void>((resolve) => {
      if (this.workers === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
  }

  private enqueue(tasks: Task[], state: StreamingProgress['state']): void {
    this.tasks.push(...tasks);
    this.progress.state = state;
    this.progress.slotsTotal += tasks.length;
    this.run();
    if (this.workers === 0) this.finished();
  }

  /** Starts workers for the queued tasks, up to the bound. */
  private run(): void {
    while (this.workers < SLOTS_IN_FLIGHT_MAX &&
        this.workers < this.tasks.length - this.nextTask) {
      this.workers++;
      void this.work();
    }
  }

  private async work(): Promise<void> {
    try {
      while (this.nextTask < this.tasks.length) {
        const task = this.tasks[this.nextTask++] as Task;
        const ok = await this.runTask(task);
        if (ok) this.progress.slotsDone++;
        else this.progress.slotsFailed++;
      }
    } finally {
      this.workers--;
      if (this.workers === 0) this.finished();
    }
  }

  private finished(): void {
    this.logger.info({ ...this.progress }, 'slot streaming finished');
    const state = this.progress.state;
    this.progress.state = 'idle';
    this.tasks = [];
    this.nextTask = 0;
    if (state === 'pulling') this.afterPull();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** One slot with every peer of the task; succeeds when one pull / every push worked. */
  private async runTask(task: Task): Promise<boolean> {
    let succeeded = 0;
    for (const peer of task.peers) {
      if (peer === this.peers.selfId || this.peers.isDown(peer)) continue;
      const call: PeerCall | null = this.peers.call(peer);
      if (call === null) continue;
      try {
        await this.repairer.repairSlot(call, task.slot, task.direction);
        succeeded++;
      } catch (error) {
        this.logger.warn({ peer, slot: task.slot, err: error }, 'slot streaming failed');
      }
    }
    return task.direction === 'pull' ? succeeded > 0 : succeeded === task.peers.length;
  }
}
