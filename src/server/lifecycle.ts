/**
 * Save points and shutdown. SAVE / BGSAVE flush everything written so far to disk.
 * Shutdown (SIGTERM, SIGINT or SHUTDOWN) stops accepting clients, lets in-flight commands
 * finish and their replies leave (bounded wait), flushes and closes storage, then exits 0.
 */
import type { Logger } from 'pino';
import type { PersistenceService } from '../commands/context.js';
import type { Clock } from '../runtime/clock.js';

/** Longest wait for in-flight replies before closing clients anyway. */
const DRAIN_WAIT_MS = 10_000;
/** The whole shutdown (drain, flush, close) must finish within this, or the node exits 1. */
const SHUTDOWN_BOUND_MS = 30_000;
const DRAIN_POLL_MS = 5;

export interface LifecycleParts {
  clock: Clock;
  logger: Logger;
  /** Writes since start; save points subtract the count at the last save. */
  writesCount(): number;
  flushStorage(): Promise<void>;
  closeStorage(): Promise<void>;
  stopAccepting(): Promise<void>;
  hasPendingReplies(): boolean;
  closeClients(): void;
  stopBackgroundWork(): void;
  flushLogs(): void;
  exit(code: number): void;
}

export class Lifecycle implements PersistenceService {
  lastSaveUnixSeconds: number;
  bgsaveInProgress = false;
  private writesAtSave = 0;
  private shuttingDown = false;

  constructor(private readonly parts: LifecycleParts) {
    this.lastSaveUnixSeconds = Math.floor(parts.clock.nowMs() / 1000);
  }

  get changesSinceSave(): number {
    return this.parts.writesCount() - this.writesAtSave;
  }

  save(done: (error: Error | null) => void): void {
    const writes = this.parts.writesCount();
    this.bgsaveInProgress = true;
    this.parts.flushStorage().then(() => {
      this.bgsaveInProgress = false;
      this.writesAtSave = writes;
      this.lastSaveUnixSeconds = Math.floor(this.parts.clock.nowMs() / 1000);
      done(null);
    }, (error: Error) => {
      this.bgsaveInProgress = false;
      this.parts.logger.error({ err: error }, 'save failed');
      done(error);
    });
  }

  shutdown(reason: string): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    // A stuck close (a disk that stopped answering) must not keep the process up forever:
    // exit non-zero so a supervisor restarts the node and the commit log replays.
    const bound = setTimeout(() => {
      this.parts.logger.fatal({ ms: SHUTDOWN_BOUND_MS }, 'shutdown took too long; exiting');
      this.parts.flushLogs();
      this.parts.exit(1);
    }, SHUTDOWN_BOUND_MS);
    bound.unref();
    this.run(reason).catch((error: unknown) => {
      this.parts.logger.fatal({ err: error }, 'shutdown failed');
      this.parts.flushLogs();
      this.parts.exit(1);
    });
  }

  private async run(reason: string): Promise<void> {
    const { logger } = this.parts;
    logger.info({ reason }, 'shutting down');
    this.parts.stopBackgroundWork();
    const stopped = this.parts.stopAccepting();
    const deadline = this.parts.clock.monotonicMs() + DRAIN_WAIT_MS;
    while (this.parts.hasPendingReplies() && this.parts.clock.monotonicMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    this.parts.closeClients();
    await stopped;
    await this.parts.closeStorage();
    logger.info('stopped; data flushed to disk');
    this.parts.flushLogs();
    this.parts.exit(0);
  }
}
