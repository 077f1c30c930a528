/**
 * INFO as monitoring tools and clients read it (COMPAT.md A2/A3): section layout, the
 * fields of every section, keyspace lines, command and error statistics, through ioredis
 * (RESP2 and RESP3) and redis-cli.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectIoredis, infoField, infoSections, parseInfo, runTool, type TestRedis,
} from '../helpers/clients.js';
import { startNode, type ServerProcess } from '../helpers/processes.js';
import { RespClient } from '../helpers/resp-client.js';
import { waitFor } from '../helpers/wait.js';

/** Redis 7.0's default INFO sections, in order; RingKV may add its own after them. */
const DEFAULT_SECTIONS = ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication',
  'CPU', 'Modules', 'Errorstats', 'Cluster', 'Keyspace'];

/** COMPAT.md A3: fields consumers read, per section (pubsub_clients: see its own test). */
const A3_FIELDS: Record<string, readonly string[]> = {
  server: ['redis_version', 'redis_mode', 'os', 'arch_bits', 'process_id', 'run_id', 'tcp_port',
    'uptime_in_seconds', 'uptime_in_days', 'hz', 'configured_hz', 'executable', 'config_file',
    'server_time_usec', 'redis_build_id'],
  clients: ['connected_clients', 'blocked_clients', 'maxclients', 'tracking_clients',
    'client_recent_max_input_buffer', 'client_recent_max_output_buffer'],
  memory: ['used_memory', 'used_memory_human', 'used_memory_rss', 'used_memory_peak',
    'maxmemory', 'maxmemory_policy', 'mem_fragmentation_ratio', 'used_memory_dataset'],
  persistence: ['loading', 'async_loading', 'rdb_changes_since_last_save',
    'rdb_last_save_time', 'rdb_last_bgsave_status', 'aof_enabled'],
  stats: ['total_connections_received', 'total_commands_processed',
    'instantaneous_ops_per_sec', 'total_net_input_bytes', 'total_net_output_bytes',
    'rejected_connections', 'expired_keys', 'evicted_keys', 'keyspace_hits', 'keyspace_misses',
    'total_error_replies', 'pubsub_channels', 'pubsub_patterns'],
  replication: ['role', 'connected_slaves', 'master_replid', 'master_repl_offset'],
  cpu: ['used_cpu_sys', 'used_cpu_user'],
  cluster: ['cluster_enabled'],
};

let node: ServerProcess;
let client: TestRedis;

before(async () => {
  node = await startNode();
  client = await connectIoredis(node.port, { protocol: 2 });
});

after(async () => {
  client?.disconnect();
  await node?.stop();
  node?.cleanup();
});

async function info(...sections: string[]): Promise<Map<string, string>> {
  return parseInfo(await client.info(...sections));
}

test('default INFO: Redis 7 sections in order, CRLF lines, blank line between sections',
    async () => {
  const text = await client.info();
  const sections = infoSections(text);
  assert.deepEqual(sections.slice(0, DEFAULT_SECTIONS.length), DEFAULT_SECTIONS);
  assert.ok(!sections.includes('Commandstats'), 'Commandstats is not a default section');
  assert.match(text, /^# Server\r\n/);
  assert.ok(text.endsWith('\r\n'));
  assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/, 'a bare CR or LF');
  for (const block of text.split('\r\n\r\n')) {
    const lines = block.split('\r\n').filter((line) => line !== '');
    assert.match(lines[0] ?? '', /^# \w+$/);
    for (const line of lines.slice(1)) assert.match(line, /^[a-z0-9_|]+:/i, line);
  }
  assert.equal(infoField(parseInfo(text), 'loading'), '0');
});

test('the fields COMPAT.md A3 lists, with sane values', async () => {
  for (const [section, fields] of Object.entries(A3_FIELDS)) {
    const values = await info(section);
    for (const field of fields) {
      assert.ok(values.has(field), `INFO ${section} lacks ${field}`);
    }
  }
  const server = await info('server');
  assert.match(infoField(server, 'redis_version'), /^\d+\.\d+\.\d+$/);
  assert.equal(infoField(server, 'redis_mode'), 'standalone');
  assert.equal(infoField(server, 'process_id'), String(node.process.pid));
  assert.equal(infoField(server, 'tcp_port'), String(node.port));
  assert.match(infoField(server, 'run_id'), /^[0-9a-f]{40}$/);
  assert.equal(infoField(server, 'arch_bits'), '64');
  assert.equal(infoField(server, 'config_file'), '');
  const serverTimeMs = Number(infoField(server, 'server_time_usec')) / 1000;
  assert.ok(Math.abs(serverTimeMs - Date.now()) < 5000, 'server_time_usec is not now');
  const memory = await info('memory');
  assert.equal(infoField(memory, 'maxmemory_policy'), 'noeviction');
  assert.ok(Number(infoField(memory, 'used_memory_rss')) > 0);
  const replication = await info('replication');
  assert.equal(infoField(replication, 'role'), 'master');
  assert.equal(infoField(replication, 'connected_slaves'), '0');
  assert.equal(infoField(await info('cluster'), 'cluster_enabled'), '0');
  assert.equal(infoField(await info('persistence'), 'loading'), '0');
});

test('connected_clients and total_connections_received follow connections', async () => {
  const before = await info('clients', 'stats');
  const connected = Number(infoField(before, 'connected_clients'));
  const received = Number(infoField(before, 'total_connections_received'));
  const extra = await Promise.all([1, 2, 3].map(() => RespClient.connect(node.port)));
  try {
    await waitFor('three more connected clients', async () =>
      Number(infoField(await info('clients'), 'connected_clients')) === connected + 3
        ? true : undefined);
    assert.equal(Number(infoField(await info('stats'), 'total_connections_received')),
      received + 3);
  } finally {
    for (const connection of extra) connection.close();
  }
  await waitFor('the extra clients to be gone', async () =>
    Number(infoField(await info('clients'), 'connected_clients')) === connected
      ? true : undefined);
});

test('keyspace lines per database: db<N>:keys=…,expires=…,avg_ttl=…', async () => {
  await client.set('ks:plain', 'v');
  await client.set('ks:ttl', 'v', 'EX', 1000);
  const other = await connectIoredis(node.port, { db: 5 });
  try {
    await other.set('ks:five', 'v');
    const keyspace = await info('keyspace');
    assert.match(infoField(keyspace, 'db0'), /^keys=2,expires=1,avg_ttl=\d+$/);
    assert.match(infoField(keyspace, 'db5'), /^keys=1,expires=0,avg_ttl=\d+$/);
    assert.equal(keyspace.has('db1'), false, 'empty databases have no line');
    await other.flushdb();
    assert.equal((await info('keyspace')).has('db5'), false);
  } finally {
    other.disconnect();
  }
  await client.del('ks:plain');
  await client.del('ks:ttl');
});

test('commandstats after INFO commandstats: calls, rejected and failed calls', async () => {
  assert.equal(await client.config('RESETSTAT'), 'OK');
  for (let index = 0; index < 5; index++) await client.set('cs:key', String(index));
  await client.get('cs:key');
  await assert.rejects(client.call('INCR'), /wrong number of arguments/);
  await client.set('cs:text', 'abc');
  await assert.rejects(client.incr('cs:text'), /not an integer/);
  const text = await client.info('commandstats');
  assert.deepEqual(infoSections(text), ['Commandstats']);
  const stats = parseInfo(text);
  const format =
    /^calls=\d+,usec=\d+,usec_per_call=\d+\.\d{2},rejected_calls=\d+,failed_calls=\d+$/;
  for (const [name, value] of stats) {
    assert.match(name, /^cmdstat_[a-z|-]+$/);
    assert.match(value, format, name);
  }
  assert.match(infoField(stats, 'cmdstat_set'), /^calls=6,/);
  assert.match(infoField(stats, 'cmdstat_get'), /^calls=1,.*,rejected_calls=0,failed_calls=0$/);
  // The arity error is rejected before the call; the type error is a failed call.
  assert.match(infoField(stats, 'cmdstat_incr'), /^calls=1,.*,rejected_calls=1,failed_calls=1$/);
  assert.deepEqual(infoSections(await client.info('everything')).includes('Commandstats'),
    true);
  await client.del('cs:key');
  await client.del('cs:text');
});

// Redis 7.0.15 updates a command's statistics after it ran, so RESETSTAT counts itself.
test('CONFIG RESETSTAT shows in commandstats afterwards', async () => {
  assert.equal(await client.config('RESETSTAT'), 'OK');
  assert.match(infoField(await info('commandstats'), 'cmdstat_config|resetstat'),
    /^calls=1,/);
});

test('errorstats after errors, cleared by CONFIG RESETSTAT', async () => {
  assert.equal(await client.config('RESETSTAT'), 'OK');
  assert.deepEqual([...(await info('errorstats')).keys()], []);
  await assert.rejects(client.call('NOSUCHCOMMAND'), /ERR unknown command/);
  await assert.rejects(client.call('GET'), /ERR wrong number of arguments/);
  await assert.rejects(client.select(99), /ERR DB index is out of range/);
  const errorstats = await info('errorstats');
  assert.equal(infoField(errorstats, 'errorstat_ERR'), 'count=3');
  assert.equal(infoField(await info('stats'), 'total_error_replies'), '3');
  const raw = await RespClient.connect(node.port);
  try {
    assert.equal(await raw.call('HELLO', '4'), '-NOPROTO unsupported protocol version\r\n');
  } finally {
    raw.close();
  }
  assert.equal(infoField(await info('errorstats'), 'errorstat_NOPROTO'), 'count=1');
  assert.equal(await client.config('RESETSTAT'), 'OK');
  assert.equal((await info('errorstats')).size, 0);
});

test('keyspace hits and misses', async () => {
  await client.config('RESETSTAT');
  await client.set('hm:key', 'v');
  await client.get('hm:key');
  await client.get('hm:key');
  await client.get('hm:missing');
  const stats = await info('stats');
  assert.equal(infoField(stats, 'keyspace_hits'), '2');
  assert.equal(infoField(stats, 'keyspace_misses'), '1');
  await client.del('hm:key');
});

test('INFO with several sections, unknown sections, and over RESP3', async () => {
  assert.deepEqual(infoSections(await client.info('server', 'clients')), ['Server', 'Clients']);
  assert.equal(await client.info('nosuchsection'), '');
  const resp3 = await connectIoredis(node.port, { protocol: 3 });
  try {
    const text = await resp3.info('server');
    assert.match(text, /^# Server\r\n/);
    assert.equal(infoField(parseInfo(text), 'tcp_port'), String(node.port));
  } finally {
    resp3.disconnect();
  }
});

test('redis-cli INFO SERVER (and -3 INFO SERVER) print the Server section', async () => {
  for (const extra of [[], ['-3']]) {
    const result = await runTool('redis-cli', ['-p', String(node.port), ...extra, 'INFO',
      'SERVER']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^# Server\r?\n/);
    assert.match(result.stdout, /\nredis_version:\d+\.\d+\.\d+\r?\n/);
  }
});

test('INFO latencystats gives per-command percentiles (COMPAT.md A2)', async () => {
  await client.set('lat:key', 'v');
  const text = await client.info('latencystats');
  assert.deepEqual(infoSections(text), ['Latencystats']);
  assert.match(infoField(parseInfo(text), 'latency_percentiles_usec_set'),
    /^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
  assert.ok(infoSections(await client.info('everything')).includes('Latencystats'));
  await client.del('lat:key');
});

test('INFO clients has pubsub_clients (COMPAT.md A3)', async () => {
  assert.equal(infoField(await info('clients'), 'pubsub_clients'), '0');
});

test('INFO ringkv: the key filter answers reads of keys never stored', async () => {
  // The filter is built by a scan after start: wait for it, then read keys never written.
  await waitFor('key filter built', async () =>
    (Number(infoField(await info('ringkv'), 'storage_key_filter_bytes')) > 0 ? true : undefined));
  const before = Number(infoField(await info('ringkv'), 'storage_key_filter_skips'));
  for (let index = 0; index < 20; index++) assert.equal(await client.get(`kf:never:${index}`), null);
  const after = Number(infoField(await info('ringkv'), 'storage_key_filter_skips'));
  assert.ok(after - before >= 18, `${after - before} of 20 reads skipped LMDB`);
});

test('GET of a key past its expiry: nil, a miss, one expired key, the key gone', async () => {
  await client.config('RESETSTAT');
  const keysBefore = await client.dbsize();
  const expiredBefore = Number(infoField(await info('stats'), 'expired_keys'));
  await client.set('ge:key', 'v', 'PX', 30);
  assert.equal(await client.get('ge:key'), 'v');
  await waitFor('the key to expire', async () =>
    ((await client.get('ge:key')) === null ? true : undefined), 5000, 10);
  const stats = await info('stats');
  // Each read while the key lived was a hit; the one that found it expired, a miss.
  assert.ok(Number(infoField(stats, 'keyspace_hits')) >= 1);
  assert.equal(infoField(stats, 'keyspace_misses'), '1');
  assert.equal(Number(infoField(stats, 'expired_keys')) - expiredBefore, 1);
  assert.equal(await client.dbsize(), keysBefore);
});
