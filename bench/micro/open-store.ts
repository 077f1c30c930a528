/**
 * A LocalStore on a real LMDB engine (commit log, overlay, writer thread) in `dir`, as the
 * in-process micro-benchmarks below the protocol use it. Logs warnings only.
 */
import { pino } from 'pino';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { LocalStore } from '../../src/storage/local-store.js';

export async function openStore(dir: string):
    Promise<{ engine: LmdbEngine; store: LocalStore }> {
  const logger = pino({ level: 'warn' });
  const engine = new LmdbEngine({ dir, durability: 'everysec', logger });
  await engine.open();
  const store = new LocalStore(engine, logger);
  await store.load();
  return { engine, store };
}
