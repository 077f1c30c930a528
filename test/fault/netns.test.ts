/**
 * Three hosts on one network (FAULTS.md B3): a bridge namespace and one network namespace
 * per node, each node bound to its own address and announcing it (--cluster-announce-ip).
 * CLUSTER SLOTS from every node lists the announced addresses, identically. Then nftables
 * rules on the two others drop the third node's address (a partition): QUORUM keeps working
 * through the majority, which flags the isolated node as failed, while the isolated node
 * refuses QUORUM writes; after healing the cluster converges and the isolated node reads the
 * writes it missed.
 *
 * The test process reaches every node through one more veth into the bridge. It needs root,
 * `ip netns` (iproute2) and `nft` (nftables); without them it is skipped, saying why.
 * Namespace and interface names are unique per run and deleted in `finally`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startCluster, type Cluster, type Reply } from '../helpers/cluster.js';
import { checkPresentation } from '../helpers/cluster-checks.js';
import { waitFor } from '../helpers/wait.js';

const NODES = 3;
const REQUEST_TIMEOUT_MS = 2000;
/**
 * How long the partition lasts: long enough for TCP on the isolated node's old links to back
 * off retransmitting (0.2, 0.6, 1.4, 3.0, 6.2, 12.6 s after their first lost segment).
 * Healed at 8 s, such a link stays stuck until about 12.6 s, whenever its first segment was
 * lost; the peer client replaces a link silent for a request timeout, and a new connection
 * gets through within about a second of healing.
 */
const PARTITION_MS = 8000;
/** After the membership converged, the healed node's data path must work within this. */
const RECOVERY_MS = 3500;
const PARTITION_TABLE = 'ringkv_partition';

function run(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args, { input, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${String(result.status)}): ` +
      `${result.stderr}${result.error?.message ?? ''}`);
  }
  return result.stdout;
}

/** Why this machine cannot run the test, or null when it can. */
function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and nftables)';
  const probe = `rkv-probe-${randomBytes(3).toString('hex')}`;
  try {
    run('ip', ['netns', 'add', probe]);
    run('ip', ['netns', 'del', probe]);
  } catch (error) {
    return `ip netns does not work here (apt-get install -y iproute2): ${(error as Error).message}`;
  }
  if (spawnSync('nft', ['--version']).status !== 0) {
    return 'nft is missing (apt-get install -y nftables)';
  }
  return null;
}

/** A /24 in 10.0.0.0/8 that no interface or route of this machine uses. */
function unusedSubnet(): string {
  const used = run('ip', ['-4', 'addr']) + run('ip', ['-4', 'route']);
  for (;;) {
    const subnet = `10.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
}

interface Network {
  namespaces: string[];
  hosts: string[];
  /** Drops the node's address on every other node (input and output). */
  isolate(index: number): void;
  heal(): void;
  destroy(): void;
}

function createNetwork(): Network {
  const id = randomBytes(3).toString('hex');
  const bridge = `rkv-${id}-br`;
  const namespaces = Array.from({ length: NODES }, (_, index) => `rkv-${id}-n${index + 1}`);
  const subnet = unusedSubnet();
  const hosts = namespaces.map((_, index) => `${subnet}.${11 + index}`);
  const hostLink = `rkv${id}h`;
  const network: Network = {
    namespaces,
    hosts,
    isolate: (index) => {
      const address = hosts[index] as string;
      namespaces.forEach((namespace, other) => {
        if (other === index) return;
        run('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], [
          `table inet ${PARTITION_TABLE} {`,
          `  chain input { type filter hook input priority 0; ip saddr ${address} drop; }`,
          `  chain output { type filter hook output priority 0; ip daddr ${address} drop; }`,
          '}', ''].join('\n'));
      });
    },
    heal: () => {
      for (const namespace of namespaces) {
        spawnSync('ip', ['netns', 'exec', namespace, 'nft', 'delete', 'table', 'inet',
          PARTITION_TABLE]);
      }
    },
    destroy: () => {
      spawnSync('ip', ['link', 'del', hostLink]);
      for (const namespace of [...namespaces, bridge]) spawnSync('ip', ['netns', 'del', namespace]);
    },
  };
  try {
    run('ip', ['netns', 'add', bridge]);
    run('ip', ['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', bridge, 'link', 'set', 'br0', 'up']);
    namespaces.forEach((namespace, index) => {
      run('ip', ['netns', 'add', namespace]);
      run('ip', ['-n', bridge, 'link', 'add', `v${index}`, 'type', 'veth', 'peer', 'name',
        'eth0', 'netns', namespace]);
      run('ip', ['-n', bridge, 'link', 'set', `v${index}`, 'master', 'br0', 'up']);
      run('ip', ['-n', namespace, 'addr', 'add', `${hosts[index]}/24`, 'dev', 'eth0']);
      run('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    });
    // The test process's own way in: a veth from this namespace into the bridge.
    run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'host', 'netns',
      bridge]);
    run('ip', ['-n', bridge, 'link', 'set', 'host', 'master', 'br0', 'up']);
    run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', hostLink]);
    run('ip', ['link', 'set', hostLink, 'up']);
  } catch (error) {
    network.destroy();
    throw error;
  }
  return network;
}

function errorText(reply: Reply): string {
  assert.ok(reply instanceof Error, `expected an error, got ${JSON.stringify(reply)}`);
  return reply.message;
}

const skip = unavailable();

test('a cluster across network namespaces survives the partition of one node',
  skip === null ? {} : { skip }, async (t) => {
    const startedMs = Date.now();
    const network = createNetwork();
    let cluster: Cluster | undefined;
    try {
      cluster = await startCluster({ nodes: NODES, hosts: network.hosts,
        launcher: (index) => ['ip', 'netns', 'exec', network.namespaces[index] as string],
        args: ['--request-timeout', String(REQUEST_TIMEOUT_MS)] });
      t.diagnostic(`formed across namespaces in ${cluster.formedInMs} ms`);
      // Every node lists the announced addresses (checkPresentation compares each entry
      // with the node's own address), byte-identically.
      await checkPresentation(cluster.nodes, 3);
      for (const node of cluster.nodes) {
        assert.ok(!(await node.raw('CLUSTER', 'SLOTS')).includes('127.0.0.1'));
        assert.ok((await node.clusterNodes()).every((line) =>
          network.hosts.includes(line.address.split(':')[0] as string)));
      }

      const isolated = cluster.node(2);
      const majority = [await cluster.node(0).session(), await cluster.node(1).session()];
      const minority = await isolated.session();
      try {
        network.isolate(2);
        const isolatedAtMs = Date.now();
        // QUORUM through the majority works at once, before anyone notices.
        let written = 0;
        const writeThroughMajority = async (): Promise<void> => {
          const key = `partition:${written}`;
          const writer = majority[written % 2] as typeof minority;
          const reader = majority[(written + 1) % 2] as typeof minority;
          assert.equal(await writer.call('SET', key, `during ${written}`), 'OK');
          assert.equal(await reader.call('GET', key), `during ${written}`);
          written++;
        };
        for (let index = 0; index < 60; index++) await writeThroughMajority();
        await cluster.waitFailed(isolated);
        t.diagnostic(`isolated node flagged fail by the majority after ${Date.now() -
          isolatedAtMs} ms`);
        await waitFor('the isolated node to flag the others as failed', async () => {
          const lines = await isolated.clusterNodes();
          return lines.filter((line) => line.flags.includes('fail')).length === 2 ? true
            : undefined;
        });
        const refused = await minority.timed('SET', 'partition:minority', 'x');
        assert.match(errorText(refused.reply), /^NOREPLICAS write quorum not reached/);
        assert.ok(refused.elapsedMs < REQUEST_TIMEOUT_MS + 500, `${refused.elapsedMs} ms`);
        assert.match(errorText(await minority.call('GET', 'partition:0')),
          /^CLUSTERDOWN read quorum not reached/);

        // The majority keeps working for the rest of the partition.
        while (Date.now() - isolatedAtMs < PARTITION_MS) await writeThroughMajority();

        network.heal();
        const healedAtMs = Date.now();
        await cluster.waitConverged({ healthy: true });
        t.diagnostic(`converged ${Date.now() - healedAtMs} ms after healing`);
        assert.equal(await minority.call('CONSISTENCY', 'ALL'), 'OK');
        await waitFor('reads at ALL through the healed node', async () =>
          (await minority.call('GET', 'partition:0') === 'during 0' ? true : undefined),
        RECOVERY_MS);
        t.diagnostic(`reads at ALL through it work ${Date.now() - healedAtMs} ms after healing`);
        for (let index = 0; index < written; index++) {
          assert.equal(await minority.call('GET', `partition:${index}`), `during ${index}`);
        }
        assert.equal(await minority.call('SET', 'partition:healed', 'everywhere'), 'OK');
        assert.equal(await (majority[0] as typeof minority).call('GET', 'partition:healed'),
          'everywhere');
      } finally {
        for (const session of [...majority, minority]) session.close();
      }
    } finally {
      network.heal();
      await cluster?.stop();
      network.destroy();
      t.diagnostic(`netns test took ${Date.now() - startedMs} ms`);
    }
  });
