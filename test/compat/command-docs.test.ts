/**
 * Consistency of commands/docs.ts with the command table, without a server: every command
 * is documented, key arguments point at key specs, and the legacy (first, last, step) triple
 * each table entry reports is the one Redis derives from the key specs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docsOf, documentedNames, type ArgumentDoc, type KeySpec }
  from '../../src/commands/docs.js';
import type { CommandSpec, KeyPositions } from '../../src/commands/spec.js';
import { CommandRegistry } from '../../src/commands/table.js';

function everySpec(): CommandSpec[] {
  const specs: CommandSpec[] = [];
  for (const spec of new CommandRegistry().all()) {
    specs.push(spec);
    for (const sub of spec.subcommands ?? []) specs.push(sub);
  }
  return specs;
}

function walk(list: readonly ArgumentDoc[], visit: (argument: ArgumentDoc) => void): void {
  for (const argument of list) {
    visit(argument);
    walk(argument.arguments ?? [], visit);
  }
}

/** Redis's legacy range: from the first key spec's start to the last one's end. */
function legacyRange(keySpecs: readonly KeySpec[]): KeyPositions {
  const first = keySpecs[0];
  const last = keySpecs[keySpecs.length - 1];
  if (first === undefined || last === undefined) return { first: 0, last: 0, step: 0 };
  const end = last.lastKey < 0 ? last.lastKey : last.index + last.lastKey;
  return { first: first.index, last: end, step: first.keyStep };
}

test('every table command has docs, and every doc a command', () => {
  const names = everySpec().map((spec) => spec.name).sort();
  assert.deepEqual([...documentedNames()].sort(), names);
});

test('docs fields are well formed', () => {
  for (const spec of everySpec()) {
    const docs = docsOf(spec.name);
    assert.ok(docs !== undefined, spec.name);
    assert.ok(docs.summary.length > 0 && !docs.summary.includes('\n'), `${spec.name} summary`);
    assert.ok(docs.summary.length <= 100, `${spec.name} summary is one short line`);
    assert.match(docs.since, /^\d+\.\d+\.\d+$/, `${spec.name} since`);
    assert.ok(docs.complexity.length > 0, `${spec.name} complexity`);
    for (const [version] of docs.history ?? []) assert.match(version, /^\d+\.\d+\.\d+$/);
    walk(docs.arguments ?? [], (argument) => {
      const nested = argument.type === 'oneof' || argument.type === 'block';
      assert.equal(argument.arguments !== undefined, nested, `${spec.name} ${argument.name}`);
      if (argument.type === 'pure-token') assert.ok(argument.token !== undefined);
    });
  }
});

test('key arguments and key specs refer to each other', () => {
  for (const spec of everySpec()) {
    const docs = docsOf(spec.name);
    const keySpecs = docs?.keySpecs ?? [];
    const referenced = new Set<number>();
    walk(docs?.arguments ?? [], (argument) => {
      assert.equal(argument.type === 'key', argument.keySpecIndex !== undefined,
        `${spec.name} ${argument.name}`);
      if (argument.keySpecIndex === undefined) return;
      assert.ok(argument.keySpecIndex < keySpecs.length, `${spec.name} ${argument.name}`);
      referenced.add(argument.keySpecIndex);
    });
    assert.equal(referenced.size, keySpecs.length, `${spec.name}: unreferenced key spec`);
  }
});

test('the table\'s (first, last, step) is derived from the key specs, as in Redis', () => {
  for (const spec of everySpec()) {
    const keySpecs = docsOf(spec.name)?.keySpecs ?? [];
    assert.deepEqual(spec.keys, legacyRange(keySpecs), spec.name);
    for (const keySpec of keySpecs) {
      assert.ok(keySpec.index >= 1 && keySpec.keyStep >= 1, spec.name);
      assert.ok(keySpec.flags.some((flag) => ['RO', 'RW', 'OW', 'RM'].includes(flag)),
        `${spec.name}: a key spec needs one access flag`);
    }
  }
});
