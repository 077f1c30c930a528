/**
 * The commit log: group encoding (GroupBuilder / decodeGroups), recovery that ignores a torn
 * tail and stops at corruption, and segment lifecycle (append, release, discard) in a
 * temporary directory.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { waitFor } from '../helpers/wait.js';
import { pino, type Logger } from 'pino';
import {
  CommitLog,
  decodeGroups,
  GroupBuilder,
  LogOperation,
  type LoggedOperation,
} from '../../src/storage/commit-log.js';

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

function temporaryDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-commit-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function put(table: number, key: string, value: string): LoggedOperation {
  return { table, kind: LogOperation.Put, key: Buffer.from(key), value: Buffer.from(value) };
}

function remove(table: number, key: string): LoggedOperation {
  return { table, kind: LogOperation.Remove, key: Buffer.from(key), value: null };
}

/** Encodes operations as one group, copied out of the builder's reused buffer. */
function group(operations: readonly LoggedOperation[], builder = new GroupBuilder()): Buffer {
  for (const op of operations) builder.add(op.table, op.kind, op.key, op.value);
  return Buffer.from(builder.finish());
}

function decodeAll(bytes: Buffer): { operations: LoggedOperation[]; consumed: number } {
  const operations: LoggedOperation[] = [];
  const consumed = decodeGroups(bytes, operations);
  return { operations, consumed };
}

test('group layout: u32 length, u32 CRC-32 of the payload, operations', () => {
  const bytes = group([put(1, 'k', 'vv'), remove(2, 'x')]);
  assert.equal(bytes.toString('hex'), [
    '00000014', // payload length 20
    bytes.subarray(4, 8).toString('hex'), // CRC (checked by decoding below)
    '0101', '0001', '00000002', '6b', '7676', // put: table 1, key "k", value "vv"
    '0202', '0001', '00000000', '78', // remove: table 2, key "x"
  ].join(''));
  assert.deepEqual(decodeAll(bytes).operations, [put(1, 'k', 'vv'), remove(2, 'x')]);
});

test('GroupBuilder: isEmpty, reuse after finish, and an empty group', () => {
  const builder = new GroupBuilder();
  assert.ok(builder.isEmpty);
  builder.add(0, LogOperation.Put, Buffer.from('a'), Buffer.from('1'));
  assert.ok(!builder.isEmpty);
  const first = Buffer.from(builder.finish());
  assert.ok(builder.isEmpty, 'finish starts a new group');
  builder.add(0, LogOperation.Put, Buffer.from('b'), Buffer.from('2'));
  const second = Buffer.from(builder.finish());
  assert.deepEqual(decodeAll(Buffer.concat([first, second])).operations,
    [put(0, 'a', '1'), put(0, 'b', '2')]);
  const empty = Buffer.from(builder.finish());
  assert.equal(empty.length, 8);
  assert.deepEqual(decodeAll(empty), { operations: [], consumed: 8 });
});

test('GroupBuilder: grows past its initial buffer for big values, then shrinks again', () => {
  const builder = new GroupBuilder();
  const big = Buffer.alloc(5 * 1024 * 1024, 'v');
  builder.add(3, LogOperation.Put, Buffer.from('big'), big);
  const bytes = Buffer.from(builder.finish());
  const { operations } = decodeAll(bytes);
  assert.equal(operations.length, 1);
  assert.ok(operations[0]?.value?.equals(big));
  assert.deepEqual(decodeAll(group([put(0, 'small', 'x')], builder)).operations,
    [put(0, 'small', 'x')]);
});

test('GroupBuilder: a Remove given a value still round-trips', () => {
  const builder = new GroupBuilder();
  builder.add(0, LogOperation.Remove, Buffer.from('k'), Buffer.from('ignored'));
  builder.add(0, LogOperation.Put, Buffer.from('a'), Buffer.from('1'));
  const { operations } = decodeAll(Buffer.from(builder.finish()));
  assert.deepEqual(operations, [remove(0, 'k'), put(0, 'a', '1')]);
});

const operationArbitrary: fc.Arbitrary<LoggedOperation> = fc.oneof(
  fc.record({
    table: fc.nat({ max: 255 }),
    kind: fc.constant(LogOperation.Put),
    key: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    value: fc.uint8Array({ maxLength: 200 }).map((bytes): Buffer | null => Buffer.from(bytes)),
  }),
  fc.record({
    table: fc.nat({ max: 255 }),
    kind: fc.constant(LogOperation.Remove),
    key: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    value: fc.constant(null),
  }),
);
// fc.record builds null-prototype objects; decoded operations are plain objects.
const plainOperation = operationArbitrary.map((operation): LoggedOperation => ({ ...operation }));
const groupsArbitrary = fc.array(fc.array(plainOperation, { maxLength: 8 }),
  { minLength: 1, maxLength: 6 });

test('property: groups round-trip through one reused builder', () => {
  fc.assert(fc.property(groupsArbitrary, (groups) => {
    const builder = new GroupBuilder();
    const bytes = Buffer.concat(groups.map((operations) => group(operations, builder)));
    const decoded = decodeAll(bytes);
    assert.equal(decoded.consumed, bytes.length);
    assert.deepEqual(decoded.operations, groups.flat());
  }), { numRuns: 300 });
});

test('property: a torn tail is ignored; every complete group before it survives', () => {
  fc.assert(fc.property(groupsArbitrary, fc.nat(), (groups, cutSeed) => {
    const encoded = groups.map((operations) => group(operations));
    const bytes = Buffer.concat(encoded);
    const lastStart = bytes.length - (encoded.at(-1) as Buffer).length;
    const cut = lastStart + (cutSeed % (bytes.length - lastStart)); // inside the last group
    const decoded = decodeAll(bytes.subarray(0, cut));
    assert.equal(decoded.consumed, lastStart);
    assert.deepEqual(decoded.operations, groups.slice(0, -1).flat());
  }), { numRuns: 300 });
});

test('decodeGroups: a flipped payload or CRC byte stops decoding at that group', () => {
  const first = group([put(0, 'a', '1')]);
  const second = group([put(0, 'b', '2'), remove(1, 'c')]);
  const third = group([put(0, 'd', '4')]);
  const bytes = Buffer.concat([first, second, third]);
  for (let index = first.length + 4; index < first.length + second.length; index++) {
    const corrupt = Buffer.from(bytes);
    corrupt[index] = (corrupt[index] as number) ^ 0x40;
    const decoded = decodeAll(corrupt);
    assert.equal(decoded.consumed, first.length, `flip at ${index}`);
    assert.deepEqual(decoded.operations, [put(0, 'a', '1')]);
  }
});

test('decodeGroups: a corrupt length stops decoding (too long reads as torn)', () => {
  const first = group([put(0, 'a', '1')]);
  const second = group([put(0, 'b', '2')]);
  const corrupt = Buffer.concat([first, second]);
  corrupt.writeUInt32BE(0xffffff, first.length);
  assert.deepEqual(decodeAll(corrupt), { operations: [put(0, 'a', '1')], consumed: first.length });
  corrupt.writeUInt32BE(3, first.length);
  assert.equal(decodeAll(corrupt).consumed, first.length, 'short length fails the CRC');
});

test('decodeGroups: a valid CRC over a malformed payload stops decoding', () => {
  const payload = Buffer.from([0, 9, 0, 1, 0, 0, 0, 0, 0x6b]); // kind 9 does not exist
  const header = Buffer.alloc(8);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crcOf(payload), 4);
  assert.deepEqual(decodeAll(Buffer.concat([header, payload])), { operations: [], consumed: 0 });
  const truncatedOperation = Buffer.from([0, 1, 0, 5, 0, 0, 0, 0, 0x6b]); // key overruns
  header.writeUInt32BE(truncatedOperation.length, 0);
  header.writeUInt32BE(crcOf(truncatedOperation), 4);
  assert.equal(decodeAll(Buffer.concat([header, truncatedOperation])).consumed, 0);
});

function crcOf(bytes: Buffer): number {
  // The same CRC-32 the log uses (zlib), computed independently of the builder.
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function segmentNames(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('commit-')).sort();
}

test('CommitLog: recover on an empty dir, append, reopen and recover in order', (t) => {
  const dir = temporaryDir(t);
  const { logger } = captureLogger();
  const log = new CommitLog(dir, logger);
  assert.deepEqual(log.recover(), []);
  log.discardRecovered();
  assert.deepEqual(segmentNames(dir), ['commit-000000000001.log']);
  assert.equal(log.append(group([put(0, 'a', '1')])), 1);
  assert.equal(log.append(group([remove(0, 'a'), put(1, 'b', '2')])), 2);
  log.close();

  const reopened = new CommitLog(dir, logger);
  assert.deepEqual(reopened.recover(), [put(0, 'a', '1'), remove(0, 'a'), put(1, 'b', '2')]);
  reopened.discardRecovered();
  assert.deepEqual(segmentNames(dir), ['commit-000000000002.log'], 'old segment deleted');
  assert.equal(reopened.append(group([put(0, 'c', '3')])), 1);
  reopened.closeClean();
  assert.deepEqual(segmentNames(dir), []);
});

test('CommitLog: recovery reads segments in numeric order and ignores a torn tail', (t) => {
  const dir = temporaryDir(t);
  const { logger, lines } = captureLogger();
  writeFileSync(join(dir, 'commit-000000000002.log'), Buffer.concat([
    group([put(0, 'second', '2')]), group([put(0, 'torn', 'x')]).subarray(0, 10)]));
  writeFileSync(join(dir, 'commit-000000000001.log'), group([put(0, 'first', '1')]));
  writeFileSync(join(dir, 'not-a-segment.log'), 'ignored');
  const log = new CommitLog(dir, logger);
  assert.deepEqual(log.recover(), [put(0, 'first', '1'), put(0, 'second', '2')]);
  assert.equal(lines.length, 1);
  assert.match(lines[0] as string, /incomplete group/);
  assert.match(lines[0] as string, /"ignoredBytes":10/);
  log.discardRecovered();
  assert.deepEqual(segmentNames(dir), ['commit-000000000003.log']);
  assert.deepEqual(readdirSync(dir).sort(), ['commit-000000000003.log', 'not-a-segment.log']);
  log.closeClean();
});

// A segment other than the last was complete when the next one was started, so damage in it
// is corruption, not a torn write: keep every group still readable, in later segments too.
test('CommitLog: a damaged older segment loses its tail; later segments are still read', (t) => {
  const dir = temporaryDir(t);
  const { logger } = captureLogger();
  const first = join(dir, 'commit-000000000001.log');
  writeFileSync(first, Buffer.concat([group([put(0, 'a', '1')]), group([put(0, 'b', '2')])]));
  truncateSync(first, readFileSync(first).length - 1);
  writeFileSync(join(dir, 'commit-000000000002.log'), group([put(0, 'c', '3')]));
  const log = new CommitLog(dir, logger);
  assert.deepEqual(log.recover(), [put(0, 'a', '1'), put(0, 'c', '3')]);
});

/** A log on an empty directory, ready for appends. */
function freshLog(t: TestContext): { dir: string; logger: Logger; log: CommitLog } {
  const dir = temporaryDir(t);
  const { logger } = captureLogger();
  const log = new CommitLog(dir, logger);
  log.recover();
  log.discardRecovered();
  return { dir, logger, log };
}

/** A group of the 64 MiB segment size: the next append opens a new segment. */
function segmentFillingGroup(key: string): Buffer {
  return group([put(0, key, 'x'.repeat(64 * 1024 * 1024))]);
}

test('CommitLog: release drops full segments once their groups are flushed', async (t) => {
  const { dir, logger, log } = freshLog(t);
  assert.equal(log.append(segmentFillingGroup('big')), 1);
  assert.equal(log.append(group([put(0, 'a', '1')])), 2);
  assert.deepEqual(segmentNames(dir), ['commit-000000000001.log', 'commit-000000000002.log']);
  log.release(0);
  assert.equal(segmentNames(dir).length, 2, 'nothing flushed yet');
  log.release(1);
  // The full segment's fsync and its deletion run off the event loop.
  await waitFor('the released segment to be deleted', () =>
    segmentNames(dir).length === 1 ? true : undefined, 5000, 5);
  assert.deepEqual(segmentNames(dir), ['commit-000000000002.log']);
  log.release(2);
  assert.deepEqual(segmentNames(dir), ['commit-000000000002.log'], 'the open segment stays');
  log.close();
  const reopened = new CommitLog(dir, logger);
  assert.deepEqual(reopened.recover(), [put(0, 'a', '1')]);
});

test('CommitLog: a close deletes the released segments still waiting, oldest first', (t) => {
  const { dir, logger, log } = freshLog(t);
  log.append(segmentFillingGroup('one'));
  log.append(segmentFillingGroup('two'));
  log.append(group([put(0, 'a', '1')]));
  assert.equal(segmentNames(dir).length, 3);
  // Flushed up to the second group, then closed before any asynchronous work ran.
  log.release(2);
  log.close();
  assert.deepEqual(segmentNames(dir), ['commit-000000000003.log']);
  const reopened = new CommitLog(dir, logger);
  assert.deepEqual(reopened.recover(), [put(0, 'a', '1')]);
});

/** `log.sync` as a promise: resolves when it calls back without an error. */
function synced(log: CommitLog): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    log.sync((error) => (error === null ? resolve() : reject(error)));
  });
}

test('CommitLog: sync calls back after fdatasync', async (t) => {
  const { log } = freshLog(t);
  log.append(group([put(0, 'a', '1')]));
  await synced(log);
  log.closeClean();
});

test('CommitLog: a sync with nothing appended since the last issues no fdatasync', async (t) => {
  const { log } = freshLog(t);
  log.append(group([put(0, 'a', '1')]));
  await synced(log);
  assert.equal(log.syncsIssued, 1);
  await synced(log);
  assert.equal(log.syncsIssued, 1, 'nothing new: skipped');
  log.append(group([put(0, 'b', '2')]));
  await synced(log);
  assert.equal(log.syncsIssued, 2);
  log.closeClean();
});
