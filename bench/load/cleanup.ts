/**
 * Teardown that runs exactly once, whether the benchmark ends normally, throws, or is
 * interrupted: servers and redis-benchmark are separate processes that would otherwise
 * outlive us and keep ports, CPU and temporary directories busy.
 */

export type CleanupTask = () => Promise<void> | void;

interface Entry {
  readonly name: string;
  readonly task: CleanupTask;
}

export class Cleanup {
  private readonly entries: Entry[] = [];
  private running: Promise<void> | undefined;

  /** Registers a task; the returned function unregisters it (the resource is gone). */
  defer(name: string, task: CleanupTask): () => void {
    const entry: Entry = { name, task };
    this.entries.push(entry);
    return () => {
      const index = this.entries.indexOf(entry);
      if (index >= 0) this.entries.splice(index, 1);
    };
  }

  /**
   * Runs the registered tasks in reverse order of registration. Each call queues one more
   * pass after the previous one, so a resource registered while an interrupt was already
   * being handled is still released by the final call.
   */
  run(): Promise<void> {
    const previous = this.running ?? Promise.resolve();
    this.running = previous.then(() => this.runAll());
    return this.running;
  }

  private async runAll(): Promise<void> {
    while (this.entries.length > 0) {
      const entry = this.entries.pop();
      if (entry === undefined) break;
      try {
        await entry.task();
      } catch (error) {
        // Keep tearing down the rest; report so a leaked process or directory is visible.
        process.stderr.write(`cleanup: ${entry.name} failed: ${(error as Error).message}\n`);
      }
    }
  }
}

/** If the main flow is stuck after an interrupt, exit anyway rather than hang the terminal. */
const INTERRUPT_EXIT_DELAY_MS = 90_000;

/**
 * On SIGINT/SIGTERM: stop the child processes at once (the main flow then fails fast and
 * runs the final cleanup pass), and remember the conventional exit code 128 + signal.
 * Ctrl-C in a terminal also reaches the children; stopping them again is harmless.
 */
export function cleanupOnSignals(cleanup: Cleanup, onInterrupt: (exitCode: number) => void):
    void {
  let interrupted = false;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (interrupted) {
        process.stderr.write('still stopping servers and removing temporary directories...\n');
        return;
      }
      interrupted = true;
      onInterrupt(code);
      process.stderr.write(`\n${signal}: stopping servers and removing temporary directories\n`);
      void cleanup.run().then(() => {
        setTimeout(() => process.exit(code), INTERRUPT_EXIT_DELAY_MS).unref();
      });
    });
  }
}
