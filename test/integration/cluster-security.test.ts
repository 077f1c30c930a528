/**
 * Peer-port security (DESIGN.md section 6): a node with another cluster secret, or another
 * cluster name, seeded at the cluster never becomes a member and the cluster's nodes log
 * "refused a peer connection"; a client connection cannot run PEER.* commands; a raw
 * connection to the peer port that skips the handshake is closed without an answer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster.js';
import { RespClient } from '../helpers/resp-client.js';
import { waitFor } from '../helpers/wait.js';

let cluster: Cluster;
let members: ClusterNode[];

before(async () => {
  cluster = await startCluster({ nodes: 3 });
  members = [...cluster.nodes];
});

after(async () => {
  await cluster?.stop();
});

/** Log lines (pino JSON) with this message that a node wrote after `from` characters. */
function logged(node: ClusterNode, from: number, message: string): Array<Record<string, unknown>> {
  return node.output().slice(from).split('\n').filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['msg'] === message);
}

async function checkRefused(args: string[], reason: RegExp): Promise<void> {
  const outputBefore = members.map((node) => node.output().length);
  const intruder = await cluster.addNode({ args });
  try {
    // Every member is contacted as a seed within a few gossip rounds, and refuses it.
    await waitFor('every member to refuse the intruder', () => members.every((node, index) =>
      logged(node, outputBefore[index] as number, 'refused a peer connection')
        .some((entry) => reason.test(String(entry['reason'])))) ? true : undefined);
    for (const node of members) {
      const lines = await node.clusterNodes();
      assert.equal(lines.length, 3, `${node.address} knows only the members`);
      assert.ok(lines.every((line) => line.id !== intruder.id));
      assert.equal((await node.clusterInfo()).get('cluster_known_nodes'), '3');
    }
    const alone = await intruder.clusterInfo();
    assert.equal(alone.get('cluster_known_nodes'), '1', 'the intruder learned no member');
    await cluster.waitConverged({ members });
  } finally {
    await intruder.stop();
  }
}

test('a node with another cluster secret is refused', async () => {
  await checkRefused(['--cluster-secret', 'not-the-cluster-secret'], /cluster secret/);
});

test('a node with another cluster name is refused', async () => {
  await checkRefused(['--cluster-name', 'another-cluster'], /another cluster/);
});

test('client connections cannot run PEER.* commands', async () => {
  const node = cluster.node(0);
  const get = await node.call('PEER.GET', '0', 'foo');
  assert.ok(get instanceof Error);
  assert.equal(get.message,
    "ERR unknown command 'PEER.GET', with args beginning with: '0' 'foo' ");
  for (const name of ['PEER.PUT', 'PEER.GOSSIP', 'PEER.HELLO', 'PEER.PROVE']) {
    const reply = await node.call(name, 'x');
    assert.ok(reply instanceof Error);
    assert.equal(reply.message, `ERR unknown command '${name}', with args beginning with: 'x' `);
  }
});

test('the peer port closes a connection that skips the handshake', async () => {
  const node = cluster.node(1);
  const attempts: Array<Array<string | Buffer>> = [
    ['PEER.GET', '0', 'foo'],
    ['PEER.GOSSIP', '{}'],
    ['PING'],
  ];
  for (const args of attempts) {
    const client = await RespClient.connect(node.port + 10000, node.host);
    try {
      client.send(...args);
      const received = await client.closedByServer();
      assert.equal(received.length, 0, `${String(args[0])}: closed without an answer`);
    } finally {
      client.close();
    }
  }
  // A handshake with a made-up proof is closed too, after the server's challenge.
  const client = await RespClient.connect(node.port + 10000, node.host);
  try {
    client.send('PEER.HELLO', 'ringkv', 'a'.repeat(40), Buffer.alloc(16, 7));
    const [challenge] = await client.replies(1);
    assert.match((challenge as Buffer).toString('latin1'), /^\*3\r\n/);
    client.send('PEER.PROVE', Buffer.alloc(32, 1));
    const after = await client.closedByServer();
    assert.equal(after.length, 0, 'a wrong proof gets no answer');
  } finally {
    client.close();
  }
  // The node's log reaches us through a pipe, possibly after the connection closed.
  await waitFor('the refusals in the log', () => {
    const log = logged(node, 0, 'refused a peer connection').map((entry) => entry['reason']);
    assert.ok(log.includes('unexpected PEER.GET before authentication'), log.join('; '));
    assert.ok(log.includes('wrong cluster secret'), log.join('; '));
    return true;
  });
});
