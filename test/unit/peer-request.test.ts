/**
 * Peer requests are RESP arrays of bulk strings (what the peer port's decoder reads): exact
 * bytes for short and long counts, multi-byte strings counted in bytes, binary values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRequest } from '../../src/transport/peer-client.js';

test('a request is a RESP array of bulk strings', () => {
  assert.equal(encodeRequest(['PEER.GET', '0', Buffer.from('key')]).toString('latin1'),
    '*3\r\n$8\r\nPEER.GET\r\n$1\r\n0\r\n$3\r\nkey\r\n');
  assert.equal(encodeRequest([]).toString('latin1'), '*0\r\n');
});

test('lengths of ten and more, UTF-8 strings and binary values', () => {
  const value = Buffer.alloc(1234, 0xff);
  const encoded = encodeRequest(['PEER.PUT', 'héllo wörld', value]);
  const expected = Buffer.concat([
    Buffer.from('*3\r\n$8\r\nPEER.PUT\r\n$13\r\n'), Buffer.from('héllo wörld'),
    Buffer.from('\r\n$1234\r\n'), value, Buffer.from('\r\n')]);
  assert.deepEqual(encoded, expected);
  const many = Array.from({ length: 12 }, (_, index) => String(index));
  assert.ok(encodeRequest(many).toString('latin1').startsWith('*12\r\n$1\r\n0\r\n'));
});
