/**
 * Command lookup by the name's bytes (the request path) finds exactly what lookup by
 * string finds: every command in any mix of cases, and nothing for near misses (a letter
 * more or less, a byte that only looks like a letter once its case bit is set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandRegistry } from '../../src/commands/table.js';
import { seededRandom } from '../../src/runtime/random.js';

test('lookupBytes equals lookup for every command name in any case', () => {
  const registry = new CommandRegistry();
  const random = seededRandom(7);
  for (const spec of registry.all()) {
    for (let variant = 0; variant < 4; variant++) {
      const name = [...spec.name].map((character) =>
        random.next() < 0.5 ? character.toUpperCase() : character).join('');
      assert.equal(registry.lookupBytes(Buffer.from(name, 'latin1')), registry.lookup(name),
        name);
    }
  }
});

test('near misses find nothing', () => {
  const registry = new CommandRegistry();
  for (const name of ['ge', 'gett', 'g\u0005t', 'ge\u0014', 'get\u0000', 'get ', '\u00c7et', '',
    'getsetx']) {
    assert.equal(registry.lookupBytes(Buffer.from(name, 'latin1')), undefined,
      JSON.stringify(name));
  }
});
