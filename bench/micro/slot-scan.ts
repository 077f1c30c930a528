/**
 * A slot scan under write load, in one process: what anti-entropy (its local summaries and
 * the PEER.SLOTKEYS pages it asks of a peer), SCAN and CLUSTER GETKEYSINSLOT read.
 *
 *   node dist/bench/micro/slot-scan.js [--rounds N] [--keys N] [--pending N]
 *
 * A LocalStore on a real LMDB engine holds `--keys` keys (default 100k) in one slot, as
 * redis-benchmark --cluster's hash tag puts them on each node, all committed; then
 * `--pending` overwrites (default 40k, about two seconds of a loaded node's writes, which
 * stay in the engine's overlay until the writer commits them) are made and, before the
 * writer is handed them, the whole slot is read with `slotEntries` in pages of 1024 as the
 * repairer does. Reports per round the scan's milliseconds and its slowest page (the event
 * loop is held that long): a scan that gathered every pending write per page took 8.6-12.6
 * s here, with pages of up to 300 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keySlot } from '../../src/cluster/key-slot.js';
import { encodeRecord, StoredRecord, ValueType } from '../../src/storage/record.js';
import { median } from '../load/summary.js';
import { integerOption, machine } from './harness.js';
import { openStore } from './open-store.js';

const PAGE = 1024;
const KEY_PREFIX = 'key:{06S}:';
const rounds = integerOption(process.argv, '--rounds', 3, 100);
const keys = integerOption(process.argv, '--keys', 100_000, 10_000_000);
const pending = integerOption(process.argv, '--pending', 40_000, 1_000_000);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let writes = 0;
function record(): StoredRecord {
  writes++;
  return new StoredRecord(encodeRecord({
    version: { physicalMs: Date.now(), logical: writes & 0xffff, nodeTag: 7 },
    tombstone: false, type: ValueType.String, expireAtMs: 0, value: Buffer.alloc(100, 'x'),
    fullKey: null }));
}

const keyOf = (index: number): Buffer =>
  Buffer.from(`${KEY_PREFIX}${String(index).padStart(12, '0')}`, 'latin1');

const dir = mkdtempSync(join(tmpdir(), 'ringkv-slot-scan-'));
try {
  const { engine, store } = await openStore(dir);
  const slot = keySlot(keyOf(0));
  for (let index = 0; index < keys; index++) {
    store.write(0, slot, keyOf(index), record());
    if (index % 100 === 99) await turn();
  }
  await engine.flush();
  const scans: number[] = [];
  const slowest: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Overwrites in one synchronous run: none reaches the writer before the scan.
    for (let index = 0; index < pending; index++) {
      store.write(0, slot, keyOf((index * 7919 + round) % keys), record());
    }
    let after: Buffer | null = null;
    let entries = 0;
    let slowestPage = 0;
    const start = performance.now();
    for (;;) {
      const pageStart = performance.now();
      const page = store.slotEntries(slot, after, PAGE);
      slowestPage = Math.max(slowestPage, performance.now() - pageStart);
      entries += page.entries.length;
      if (page.next === null) break;
      after = page.next;
    }
    scans.push(performance.now() - start);
    slowest.push(slowestPage);
    if (entries !== keys) throw new Error(`the scan found ${entries} of ${keys} keys`);
    await engine.flush();
  }
  await engine.close();
  console.log(`# slot scan (${keys} keys in one slot, ${pending} pending overwrites, pages ` +
    `of ${PAGE}, ${rounds} rounds)\n`);
  console.log(`${machine()}\n`);
  console.log(`scan ms: median ${median(scans).toFixed(0)} (${scans.map((value) =>
    value.toFixed(0)).join(', ')}); slowest page ms: median ${median(slowest).toFixed(1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
