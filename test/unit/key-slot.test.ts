import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../../src/cluster/key-slot.js';

// Values Redis Cluster computes (CLUSTER KEYSLOT on a real cluster, and the cluster spec).
test('key slots match Redis Cluster', () => {
  assert.equal(keySlot(Buffer.from('foo')), 12182);
  assert.equal(keySlot(Buffer.from('bar')), 5061);
  assert.equal(keySlot(Buffer.from('123456789')), 12739);
  assert.equal(keySlot(Buffer.from('')), 0);
});

test('hash tags: the first non-empty {tag} decides', () => {
  const tagged = keySlot(Buffer.from('{user1000}.following'));
  assert.equal(keySlot(Buffer.from('{user1000}.followers')), tagged);
  assert.equal(keySlot(Buffer.from('user1000')), tagged);
  assert.equal(keySlot(Buffer.from('foo{}{bar}')), keySlot(Buffer.from('foo{}{bar}')));
  assert.notEqual(keySlot(Buffer.from('foo{}{bar}')), keySlot(Buffer.from('bar')));
  assert.equal(keySlot(Buffer.from('foo{{bar}}zap')), keySlot(Buffer.from('{bar')));
  assert.equal(keySlot(Buffer.from('foo{bar}{zap}')), keySlot(Buffer.from('bar')));
});
