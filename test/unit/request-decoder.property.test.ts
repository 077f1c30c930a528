/**
 * Property tests for RequestDecoder: chunking never changes what is decoded, random bytes
 * never throw, and the decoder agrees with a whole-buffer model of Redis's framing
 * (redis-reference.ts). A failure prints fast-check's seed and path; rerun with
 * FC_SEED=<seed> to replay it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RequestDecoder } from '../../src/protocol/request-decoder.js';
import { encodeMultibulk, referenceDecode, splitAt } from './redis-reference.js';

const BULK_MAX = 512 * 1024 * 1024;
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const runs = (numRuns: number): { numRuns: number; seed?: number } =>
  (seed === undefined ? { numRuns } : { numRuns, seed });

interface Outcome {
  requests: Buffer[][];
  error: string | null;
  /** Total bytes of every decoded argument. */
  argumentBytes: number;
}

function feed(chunks: readonly Buffer[], authRequired: boolean): Outcome {
  const decoder = new RequestDecoder({ bulkBytesMax: BULK_MAX });
  decoder.authRequired = authRequired;
  const requests: Buffer[][] = [];
  let argumentBytes = 0;
  let fed = 0;
  for (const chunk of chunks) {
    decoder.push(chunk);
    fed += chunk.length;
    for (let args = decoder.next(); args !== null; args = decoder.next()) {
      // Copy: the property compares after later chunks arrived.
      requests.push(args.map((arg) => Buffer.from(arg)));
      for (const arg of args) argumentBytes += arg.length;
    }
    assert.ok(decoder.bufferedBytes <= fed, 'buffered bytes never exceed bytes fed');
    assert.ok(argumentBytes <= fed, 'decoded bytes never exceed bytes fed');
  }
  return { requests, error: decoder.error, argumentBytes };
}

/** An argument: mostly small, sometimes empty, sometimes big enough for the big-arg path. */
const argument: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 10, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 32 * 1024 - 2, max: 80 * 1024 }),
    fc.integer({ min: 0, max: 255 })).map(([length, fill]) => new Uint8Array(length).fill(fill)) },
);

const multibulk = fc.array(argument, { minLength: 0, maxLength: 6 });
/** Inline requests: tokens without quotes, spaces or control bytes. */
const inlineToken = fc.string({ unit: fc.constantFrom(...'abcXYZ019$*-_:.'.split('')),
  minLength: 1, maxLength: 8 }).filter((token) => !token.startsWith('*'));
const inline = fc.array(inlineToken, { minLength: 1, maxLength: 5 });

type Request = { kind: 'multibulk'; args: Uint8Array[] } | { kind: 'inline'; words: string[] };

const request: fc.Arbitrary<Request> = fc.oneof(
  { weight: 4, arbitrary: multibulk.map((args): Request => ({ kind: 'multibulk', args })) },
  { weight: 1, arbitrary: inline.map((words): Request => ({ kind: 'inline', words })) },
);

function encode(requests: readonly Request[]): { bytes: Buffer; expected: Buffer[][] } {
  const parts: Buffer[] = [];
  const expected: Buffer[][] = [];
  for (const item of requests) {
    if (item.kind === 'multibulk') {
      parts.push(encodeMultibulk(item.args));
      expected.push(item.args.map((arg) => Buffer.from(arg)));
    } else {
      parts.push(Buffer.from(`${item.words.join(' ')}\r\n`, 'latin1'));
      expected.push(item.words.map((word) => Buffer.from(word, 'latin1')));
    }
  }
  return { bytes: Buffer.concat(parts), expected };
}

const cutPoints = fc.array(fc.nat(), { maxLength: 40 });

test('property: valid requests split into random chunks decode to the same arguments', () => {
  fc.assert(fc.property(fc.array(request, { maxLength: 8 }), cutPoints, fc.boolean(),
    (requests, rawCuts, small) => {
      const { bytes, expected } = encode(requests);
      // Cuts are spread over the whole stream; `small` also cuts at every byte near a CR.
      const cuts = rawCuts.map((cut) => (bytes.length === 0 ? 0 : cut % bytes.length));
      if (small) {
        for (let index = bytes.indexOf(13); index !== -1 && cuts.length < 400;
          index = bytes.indexOf(13, index + 1)) cuts.push(index, index + 1);
      }
      const outcome = feed(splitAt(bytes, cuts), false);
      assert.equal(outcome.error, null);
      assert.deepEqual(outcome.requests, expected);
    }), runs(300));
});

test('property: random bytes never throw, and chunking never changes the outcome', () => {
  const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
  fc.assert(fc.property(bytes, cutPoints, fc.boolean(), (input, rawCuts, authRequired) => {
    const whole = feed([input], authRequired);
    const cuts = rawCuts.map((cut) => (input.length === 0 ? 0 : cut % input.length));
    const chunked = feed(splitAt(input, cuts), authRequired);
    assert.deepEqual(chunked, whole);
  }), runs(500));
});

/** Bytes drawn from RESP's own alphabet, so random input often looks almost valid. */
const respish = fc.array(fc.oneof(
  fc.constantFrom('*', '$', '\r\n', '\r', '\n', '-', '0', '1', '2', '3', '9', ' ', '"', "'",
    '\\', 'x', 'PING', '*1\r\n', '$1\r\n', '$4\r\n', '*2\r\n', '*-1\r\n', '*0\r\n', '+'),
  fc.string({ unit: 'binary-ascii', maxLength: 3 }),
), { maxLength: 60 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));

test('property: the decoder agrees with the whole-buffer Redis model', () => {
  fc.assert(fc.property(respish, cutPoints, fc.boolean(), (input, rawCuts, authRequired) => {
    const cuts = rawCuts.map((cut) => (input.length === 0 ? 0 : cut % input.length));
    const outcome = feed(splitAt(input, cuts), authRequired);
    const model = referenceDecode(input, { authRequired, bulkBytesMax: BULK_MAX });
    assert.deepEqual({ requests: outcome.requests, error: outcome.error }, model);
  }), runs(2000));
});

test('property: unauthenticated limits agree with the model at their boundaries', () => {
  const header = fc.tuple(fc.integer({ min: 8, max: 13 }), fc.integer({ min: 16380, max: 16390 }));
  fc.assert(fc.property(header, fc.boolean(), ([count, length], authRequired) => {
    const input = Buffer.from(`*${count}\r\n$${length}\r\n`, 'latin1');
    const outcome = feed([input], authRequired);
    const model = referenceDecode(input, { authRequired, bulkBytesMax: BULK_MAX });
    assert.deepEqual({ requests: outcome.requests, error: outcome.error }, model);
  }), runs(200));
});
