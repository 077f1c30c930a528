/**
 * Membership merge rules, one message at a time: newer (incarnation, heartbeat) wins,
 * removal wins ties, a node outbids news of itself, FORGET, gossip target choice and local
 * liveness. test/sim/gossip.test.ts checks the same state machine across a whole cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Membership,
  type GossipMessage,
  type MemberState,
  type MembershipOptions,
} from '../../src/cluster/membership.js';
import { seededRandom } from '../../src/runtime/random.js';

const OPTIONS: MembershipOptions = {
  phiSuspect: 5,
  phiDown: 8,
  membersMax: 64,
  detector: { windowSize: 100, minStdDevMs: 100, expectedIntervalMs: 1000, acceptablePauseMs: 0 },
};

const SELF = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);
const E = 'e'.repeat(40);

function state(id: string, fields: Partial<MemberState> = {}): MemberState {
  const host = `10.0.0.${id.charCodeAt(0) - 96}`;
  return {
    id, address: { host, port: 6379, busPort: 16379 }, rack: '', tokens: 128,
    incarnation: 1, heartbeat: 0, status: 'up', ...fields,
  };
}

function membership(options: MembershipOptions = OPTIONS, seed = 1, selfId = SELF):
    Membership {
  return new Membership(state(selfId), options, seededRandom(seed));
}

function gossip(...members: MemberState[]): GossipMessage {
  return { from: members[0]?.id ?? B, members };
}

test('a new member joins, with its state, and counts as alive', () => {
  const view = membership();
  const before = view.ringVersion;
  assert.deepEqual(view.receive(gossip(state(B, { rack: 'r1', heartbeat: 4 })), 1000),
    [{ id: B, change: 'joined' }]);
  assert.equal(view.ringVersion, before + 1);
  assert.equal(view.member(B)?.rack, 'r1');
  assert.equal(view.member(B)?.heartbeat, 4);
  assert.deepEqual(view.members().map((member) => member.id).sort(), [SELF, B]);
  assert.deepEqual(view.ringMembers().map((member) => member.id).sort(), [SELF, B]);
  assert.equal(view.liveness(B, 1000), 'alive');
  assert.equal(view.lastHeartbeatMs(B), 1000);
});

test('merge: a newer (incarnation, heartbeat) replaces, anything else is ignored', () => {
  const cases: Array<{ name: string; entry: Partial<MemberState>; heartbeat: number;
    incarnation: number; }> = [
    { name: 'higher heartbeat', entry: { incarnation: 2, heartbeat: 11 },
      incarnation: 2, heartbeat: 11 },
    { name: 'same heartbeat', entry: { incarnation: 2, heartbeat: 10, rack: 'x' },
      incarnation: 2, heartbeat: 10 },
    { name: 'lower heartbeat', entry: { incarnation: 2, heartbeat: 9 },
      incarnation: 2, heartbeat: 10 },
    { name: 'higher incarnation, lower heartbeat', entry: { incarnation: 3, heartbeat: 0 },
      incarnation: 3, heartbeat: 0 },
    { name: 'lower incarnation, higher heartbeat', entry: { incarnation: 1, heartbeat: 99 },
      incarnation: 2, heartbeat: 10 },
  ];
  for (const entry of cases) {
    const view = membership();
    view.receive(gossip(state(B, { incarnation: 2, heartbeat: 10 })), 0);
    view.receive(gossip(state(B, entry.entry)), 500);
    assert.equal(view.member(B)?.incarnation, entry.incarnation, entry.name);
    assert.equal(view.member(B)?.heartbeat, entry.heartbeat, entry.name);
    assert.equal(view.member(B)?.rack, '', entry.name);
  }
});

test('merge: ring-relevant changes are reported and bump ringVersion, heartbeats are not', () => {
  const view = membership();
  view.receive(gossip(state(B)), 0);
  const version = view.ringVersion;
  assert.deepEqual(view.receive(gossip(state(B, { heartbeat: 1 })), 1000), []);
  assert.equal(view.ringVersion, version);
  assert.deepEqual(view.receive(gossip(state(B, { heartbeat: 2, tokens: 256 })), 2000),
    [{ id: B, change: 'updated' }]);
  assert.equal(view.ringVersion, version + 1);
  assert.deepEqual(view.receive(gossip(state(B, { heartbeat: 3, tokens: 256, rack: 'r' })),
    3000), [{ id: B, change: 'updated' }]);
  assert.equal(view.ringVersion, version + 2);
  // An address change does not move data.
  const moved = state(B, { heartbeat: 4, tokens: 256, rack: 'r',
    address: { host: '10.9.9.9', port: 7000, busPort: 17000 } });
  assert.deepEqual(view.receive(gossip(moved), 4000), []);
  assert.equal(view.member(B)?.address.host, '10.9.9.9');
  assert.equal(view.ringVersion, version + 2);
  // Leaving does (CLUSTER LEAVE): the member drops out of the ring but stays known.
  const leaving = state(B, { heartbeat: 5, tokens: 256, rack: 'r', status: 'leaving',
    address: { host: '10.9.9.9', port: 7000, busPort: 17000 } });
  assert.deepEqual(view.receive(gossip(leaving), 5000), [{ id: B, change: 'updated' }]);
  assert.equal(view.member(B)?.status, 'leaving');
  assert.equal(view.ringVersion, version + 3);
  assert.equal(view.ringMembers().some((member) => member.id === B), false);
});

test('removal wins a tie, and a removed member is not resurrected by older news', () => {
  const view = membership();
  view.receive(gossip(state(B, { incarnation: 2, heartbeat: 5 })), 0);
  assert.deepEqual(view.receive(gossip(state(B, { incarnation: 2, heartbeat: 5,
    status: 'removed' })), 100), [{ id: B, change: 'removed' }]);
  assert.equal(view.member(B), undefined);
  assert.equal(view.liveness(B, 100), 'down');
  assert.deepEqual(view.receive(gossip(state(B, { incarnation: 2, heartbeat: 5 })), 200), []);
  assert.deepEqual(view.receive(gossip(state(B, { incarnation: 1, heartbeat: 50 })), 300), []);
  assert.equal(view.member(B), undefined);
  // A second, newer word on the removal (two nodes forgot it) is no news.
  assert.deepEqual(view.receive(gossip(state(B, { incarnation: 2, heartbeat: 9,
    status: 'removed' })), 400), []);
  // Only the member itself, with a higher incarnation, brings it back.
  assert.deepEqual(view.receive(gossip(state(B, { incarnation: 3, heartbeat: 0 })), 500),
    [{ id: B, change: 'updated' }]);
  assert.equal(view.liveness(B, 500), 'alive');
});

test('news of a removed member never met is kept as removed, silently', () => {
  const view = membership();
  const version = view.ringVersion;
  assert.deepEqual(view.receive(gossip(state(C, { status: 'removed', incarnation: 4 })), 0), []);
  assert.equal(view.member(C), undefined);
  assert.equal(view.ringVersion, version);
  assert.deepEqual(view.receive(gossip(state(C, { incarnation: 3 })), 10), []);
  assert.equal(view.member(C), undefined);
  // Passed on, so nodes that still list it learn of the removal.
  assert.ok(view.message().members.some((member) => member.id === C &&
    member.status === 'removed'));
});

test('refutation: the node outbids any newer or different news about itself', () => {
  const cases: Array<{ name: string; entry: Partial<MemberState>; incarnation: number }> = [
    { name: 'older incarnation', entry: { incarnation: 4, heartbeat: 99 }, incarnation: 5 },
    { name: 'our own state echoed', entry: { incarnation: 5, heartbeat: 3 }, incarnation: 5 },
    { name: 'an older heartbeat of ours', entry: { incarnation: 5, heartbeat: 1 },
      incarnation: 5 },
    { name: 'removed at our incarnation (FORGET)', entry: { incarnation: 5,
      status: 'removed', heartbeat: 3 }, incarnation: 6 },
    { name: 'removed at a higher incarnation', entry: { incarnation: 6, status: 'removed' },
      incarnation: 7 },
    { name: 'a higher incarnation (an earlier run)', entry: { incarnation: 9 },
      incarnation: 10 },
    { name: 'a heartbeat ahead of ours at our incarnation (an earlier run)',
      entry: { incarnation: 5, heartbeat: 40 }, incarnation: 6 },
  ];
  for (const entry of cases) {
    const view = new Membership(state(SELF, { incarnation: 5, heartbeat: 3 }), OPTIONS,
      seededRandom(1));
    const changes = view.receive(gossip(state(SELF, entry.entry)), 0);
    assert.equal(view.self.incarnation, entry.incarnation, entry.name);
    assert.deepEqual(changes, entry.incarnation === 5 ? []
      : [{ id: SELF, change: 'refuted' }], entry.name);
    assert.equal(view.self.status, 'up', entry.name);
    assert.equal(view.liveness(SELF, 1e9), 'alive', 'a node never suspects itself');
  }
});

test('forget: removes a member with a higher incarnation; never self or the unknown', () => {
  const view = membership();
  view.receive(gossip(state(B, { incarnation: 3, heartbeat: 7 })), 0);
  const version = view.ringVersion;
  assert.equal(view.forget(SELF), false);
  assert.equal(view.forget(D), false);
  assert.equal(view.forget(B), true);
  assert.equal(view.ringVersion, version + 1);
  assert.equal(view.member(B), undefined);
  assert.deepEqual(view.members().map((member) => member.id), [SELF]);
  assert.equal(view.liveness(B, 0), 'down');
  assert.equal(view.forget(B), false, 'already forgotten');
  const entry = view.message().members.find((member) => member.id === B);
  assert.deepEqual({ incarnation: entry?.incarnation, heartbeat: entry?.heartbeat,
    status: entry?.status }, { incarnation: 4, heartbeat: 7, status: 'removed' });
  // The removal overrides what other nodes knew, however recent their heartbeat.
  const other = membership(OPTIONS, 2, E);
  other.receive(gossip(state(B, { incarnation: 3, heartbeat: 500 })), 0);
  assert.deepEqual(other.receive(view.message(), 10), [{ id: SELF, change: 'joined' },
    { id: B, change: 'removed' }]);
  assert.equal(other.member(B), undefined);
});

test('tick: advances the heartbeat; no target when alone without contacts', () => {
  const view = membership();
  assert.equal(view.tick(0), null);
  assert.equal(view.tick(1000), null);
  assert.equal(view.self.heartbeat, 2);
  view.addContact({ host: '10.0.0.9', port: 6379, busPort: 16379 });
  view.addContact({ host: '10.0.0.9', port: 6379, busPort: 16379 });
  assert.deepEqual(view.tick(2000), { id: null,
    address: { host: '10.0.0.9', port: 6379, busPort: 16379 } });
});

test('tick: mostly live members, sometimes down ones and contacts', () => {
  const view = membership(OPTIONS, 42);
  view.addContact({ host: '10.0.0.99', port: 6379, busPort: 16379 });
  view.receive(gossip(state(B), state(C), state(D)), 0);
  // D stops; B and C keep beating.
  let nowMs = 0;
  for (let second = 1; second <= 30; second++) {
    nowMs = second * 1000;
    view.receive(gossip(state(B, { heartbeat: second }), state(C, { heartbeat: second })), nowMs);
  }
  assert.equal(view.liveness(D, nowMs), 'down');
  const counts = new Map<string, number>();
  const rounds = 5000;
  for (let round = 0; round < rounds; round++) {
    const target = view.tick(nowMs);
    const key = target === null ? 'none' : target.id ?? 'contact';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const share = (key: string): number => (counts.get(key) ?? 0) / rounds;
  assert.equal(share('none'), 0);
  assert.equal(counts.has(SELF), false, 'never gossips with itself by id');
  assert.ok(Math.abs(share('contact') - 0.1) < 0.02, `contacts ${share('contact')}`);
  assert.ok(Math.abs(share(D) - 0.1) < 0.02, `down member ${share(D)}`);
  assert.ok(Math.abs(share(B) + share(C) - 0.8) < 0.03, 'live members');
  // Only a down member left and no contacts: it is still tried.
  const lonely = membership(OPTIONS, 3);
  lonely.receive(gossip(state(D)), 0);
  assert.equal(lonely.liveness(D, 60_000), 'down');
  assert.equal(lonely.tick(60_000)?.id, D);
});

test('tick: with everyone down, down members share the rounds with the contacts', () => {
  // Two nodes on one side of a partition, with their seed on the other, that saw each
  // other down for a moment must try each other again, not only the unreachable seed.
  const view = membership(OPTIONS, 8);
  view.addContact({ host: '10.0.0.99', port: 6379, busPort: 16379 });
  view.receive(gossip(state(B), state(C)), 0);
  assert.equal(view.liveness(B, 60_000), 'down');
  let contacts = 0;
  let down = 0;
  for (let round = 0; round < 2000; round++) {
    const target = view.tick(60_000);
    if (target?.id === null) contacts++;
    else if (target?.id === B || target?.id === C) down++;
  }
  assert.equal(contacts + down, 2000);
  assert.ok(Math.abs(down / 2000 - 0.5) < 0.05, `down members tried in ${down} of 2000`);
});

test('liveness: alive, then suspect, then down as heartbeats stop advancing', () => {
  const view = membership();
  for (let second = 0; second <= 20; second++) {
    view.receive(gossip(state(B, { heartbeat: second })), second * 1000);
  }
  const last = 20_000;
  assert.equal(view.liveness(B, last + 1000), 'alive');
  const phases: string[] = [];
  for (let elapsed = 0; elapsed <= 10_000; elapsed += 10) {
    const liveness = view.liveness(B, last + elapsed);
    if (phases[phases.length - 1] !== liveness) phases.push(liveness);
  }
  assert.deepEqual(phases, ['alive', 'suspect', 'down']);
  assert.equal(view.liveness(D, 0), 'down', 'unknown members are down');
  // Echoes of the same heartbeat are no sign of life.
  view.receive(gossip(state(B, { heartbeat: 20 })), last + 9000);
  assert.equal(view.liveness(B, last + 9000), 'down');
});

test('a member back after being down is judged by its rhythm, not by the outage', () => {
  const view = membership();
  let heartbeat = 0;
  let nowMs = 0;
  const beat = (count: number): void => {
    for (let index = 0; index < count; index++) {
      nowMs += 1000;
      view.receive(gossip(state(B, { heartbeat: ++heartbeat })), nowMs);
    }
  };
  const silenceUntilDown = (): number => {
    const from = nowMs;
    while (view.liveness(B, nowMs) !== 'down') nowMs += 10;
    return nowMs - from;
  };
  beat(30);
  const first = silenceUntilDown();
  nowMs += 120_000;
  beat(10);
  const second = silenceUntilDown();
  assert.ok(second <= first + 500, `first failure seen after ${first} ms, second ${second} ms`);
});

test('message: every known state (removed ones too), at most membersMax, self first', () => {
  const view = membership({ ...OPTIONS, membersMax: 3 }, 9);
  view.receive(gossip(state(B), state(C), state(D)), 0);
  view.forget(D);
  for (let round = 0; round < 20; round++) {
    const message = view.message();
    assert.equal(message.from, SELF);
    assert.equal(message.members.length, 3);
    assert.equal(message.members[0]?.id, SELF);
    assert.equal(new Set(message.members.map((member) => member.id)).size, 3);
  }
  const full = membership();
  full.receive(gossip(state(B), state(C)), 0);
  full.forget(C);
  assert.deepEqual(full.message().members.map((member) => member.id).sort(), [SELF, B, C]);
  // The message is a copy: changing it does not change the state.
  const message = full.message();
  (message.members[0] as MemberState).heartbeat = 1234;
  assert.equal(full.self.heartbeat, 0);
});

test('setStatus: announced with a heartbeat, and a ring change', () => {
  const view = membership();
  const version = view.ringVersion;
  view.setStatus('leaving');
  assert.equal(view.self.status, 'leaving');
  assert.equal(view.self.heartbeat, 1);
  assert.equal(view.ringVersion, version + 1);
  const other = membership(OPTIONS, 2, E);
  other.receive(view.message(), 0);
  assert.equal(other.member(SELF)?.status, 'leaving');
});
