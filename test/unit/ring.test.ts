/**
 * The ring decides where data lives, so beyond the usual boundaries these tests measure the
 * properties DESIGN.md section 2 promises (balance, little movement on a join, weights,
 * racks) and pin golden preference lists: if a golden test fails, placement changed and
 * every existing cluster would look for its keys on the wrong nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { murmur3 } from '../../src/cluster/hash.js';
import { SLOT_COUNT } from '../../src/cluster/key-slot.js';
import {
  memberTokens,
  Ring,
  slotPosition,
  type RingMember,
} from '../../src/cluster/ring.js';
import { AssertionError } from '../../src/util/assert.js';

const VNODES = 128;

/** A realistic node id (40 hex digits), stable for a name. */
function nodeId(name: string): string {
  return createHash('sha1').update(name).digest('hex');
}

function makeMembers(count: number, options: { tokens?: number; racks?: number } = {}):
    RingMember[] {
  const racks = options.racks ?? 0;
  return Array.from({ length: count }, (_, index) => ({
    id: nodeId(`node-${index}`),
    tokens: options.tokens ?? VNODES,
    rack: racks === 0 ? '' : `rack-${index % racks}`,
  }));
}

/** Preference list of a slot as member ids. */
function listIds(ring: Ring, slot: number): string[] {
  return ring.preferenceList(slot).map((index) => (ring.members[index] as RingMember).id);
}

function relativeStdDev(values: readonly number[]): number {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}

/**
 * Reference placement, written independently of Ring: walk every token clockwise from the
 * slot's position, list the distinct owners in the order met, take the first member of each
 * new rack, then fill up with the skipped members in ring order.
 */
function referenceList(members: readonly RingMember[], slot: number, replicas: number):
    string[] {
  const tokens = members.flatMap((member) =>
    memberTokens(member.id, member.tokens).map((token) => ({ token, id: member.id })));
  tokens.sort((a, b) => a.token - b.token || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const position = slotPosition(slot);
  const start = tokens.findIndex((entry) => entry.token >= position);
  const order: string[] = [];
  for (let step = 0; step < tokens.length; step++) {
    const entry = tokens[((start === -1 ? 0 : start) + step) % tokens.length];
    if (entry !== undefined && !order.includes(entry.id)) order.push(entry.id);
  }
  const rackOf = new Map(members.map((member) => [member.id, member.rack]));
  const chosen: string[] = [];
  const racks = new Set<string>();
  for (const id of order) {
    const rack = rackOf.get(id) as string;
    if (chosen.length < replicas && !racks.has(rack)) {
      racks.add(rack);
      chosen.push(id);
    }
  }
  for (const id of order) {
    if (chosen.length < replicas && !chosen.includes(id)) chosen.push(id);
  }
  return chosen;
}

test('balance: primary ownership spreads evenly at 128 vnodes', (t) => {
  for (const count of [3, 5, 10]) {
    const ring = new Ring(makeMembers(count), 3);
    const ownership = ring.ownership();
    const primary = relativeStdDev(ownership.map((share) => share.primary));
    const replica = relativeStdDev(ownership.map((share) => share.replica));
    t.diagnostic(`${count} nodes: primary RSD ${primary.toFixed(4)}, ` +
      `replica RSD ${replica.toFixed(4)}, ${ring.slotRanges().length} slot ranges`);
    assert.ok(primary < 0.15, `${count} nodes: primary RSD ${primary}`);
    assert.ok(replica < 0.15, `${count} nodes: replica RSD ${replica}`);
    assert.equal(ownership.reduce((sum, share) => sum + share.primary, 0), SLOT_COUNT);
    assert.equal(ownership.reduce((sum, share) => sum + share.replica, 0),
      SLOT_COUNT * Math.min(3, count));
  }
});

test('a join moves about 1/(n+1) primaries and N/(n+1) replica sets, all to the new node',
  (t) => {
    const replicas = 3;
    for (const count of [3, 5, 10]) {
      const before = new Ring(makeMembers(count), replicas);
      const after = new Ring(makeMembers(count + 1), replicas);
      const joined = nodeId(`node-${count}`);
      let primaryMoved = 0;
      let setChanged = 0;
      for (let slot = 0; slot < SLOT_COUNT; slot++) {
        const old = listIds(before, slot);
        const now = listIds(after, slot);
        if (old[0] !== now[0]) {
          primaryMoved++;
          assert.equal(now[0], joined, `slot ${slot}: a primary moved between old nodes`);
        }
        if ([...old].sort().join() !== [...now].sort().join()) {
          setChanged++;
          assert.ok(now.includes(joined), `slot ${slot}: replicas moved between old nodes`);
          const kept = now.filter((id) => id !== joined);
          assert.ok(kept.every((id) => old.includes(id)), `slot ${slot}: kept replicas`);
        }
      }
      const primaryFraction = primaryMoved / SLOT_COUNT;
      const setFraction = setChanged / SLOT_COUNT;
      const primaryExpected = 1 / (count + 1);
      const setExpected = Math.min(1, replicas / (count + 1));
      t.diagnostic(`${count} -> ${count + 1} nodes: primaries moved ` +
        `${primaryFraction.toFixed(4)} (expected ${primaryExpected.toFixed(4)}), ` +
        `replica sets changed ${setFraction.toFixed(4)} (expected ${setExpected.toFixed(4)})`);
      assert.ok(Math.abs(primaryFraction / primaryExpected - 1) < 0.3,
        `primary movement ${primaryFraction}`);
      assert.ok(Math.abs(setFraction / setExpected - 1) < 0.2, `set movement ${setFraction}`);
    }
  });

test('a leave changes only the preference lists that held the leaving node', () => {
  const members = makeMembers(6);
  const before = new Ring(members, 3);
  const leaving = (members[2] as RingMember).id;
  const after = new Ring(members.filter((member) => member.id !== leaving), 3);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const old = listIds(before, slot);
    const now = listIds(after, slot);
    if (!old.includes(leaving)) assert.deepEqual(now, old, `slot ${slot}`);
    else assert.deepEqual(now.slice(0, 2), old.filter((id) => id !== leaving), `slot ${slot}`);
  }
});

test('weights: a node with twice the tokens owns about twice the slots', (t) => {
  const members = makeMembers(5);
  const heavyId = (members[0] as RingMember).id;
  const weighted = members.map((member) =>
    member.id === heavyId ? { ...member, tokens: VNODES * 2 } : member);
  const ring = new Ring(weighted, 3);
  const ownership = ring.ownership();
  const heavy = (ownership[ring.indexOf(heavyId)] as { primary: number }).primary;
  const others = ownership.filter((_, index) => index !== ring.indexOf(heavyId));
  const otherMean = others.reduce((sum, share) => sum + share.primary, 0) / others.length;
  const ratio = heavy / otherMean;
  t.diagnostic(`weight 2 owns ${heavy} primaries, others ${otherMean.toFixed(0)} on average ` +
    `(ratio ${ratio.toFixed(3)})`);
  assert.ok(ratio > 1.6 && ratio < 2.4, `ratio ${ratio}`);
  assert.equal(ring.tokensOf(ring.indexOf(heavyId)).length, VNODES * 2);
});

test('preference lists: N distinct members, or every member when N exceeds them', () => {
  const cases = [
    { count: 1, replicas: 1, expected: 1 },
    { count: 1, replicas: 3, expected: 1 },
    { count: 2, replicas: 3, expected: 2 },
    { count: 3, replicas: 3, expected: 3 },
    { count: 5, replicas: 3, expected: 3 },
    { count: 5, replicas: 5, expected: 5 },
    { count: 5, replicas: 7, expected: 5 },
    { count: 10, replicas: 1, expected: 1 },
  ];
  for (const { count, replicas, expected } of cases) {
    const ring = new Ring(makeMembers(count, { tokens: 16 }), replicas);
    assert.equal(ring.replicationFactor, replicas);
    assert.equal(ring.effectiveReplicas, expected, `${count} members, N = ${replicas}`);
    for (let slot = 0; slot < SLOT_COUNT; slot += 7) {
      const list = ring.preferenceList(slot);
      assert.equal(list.length, expected);
      assert.equal(new Set(list).size, expected, `slot ${slot}: distinct`);
      assert.equal(ring.primaryOf(slot), list[0]);
    }
  }
});

test('racks: lists span as many racks as exist, up to N', () => {
  const cases = [
    { count: 9, racks: 3, replicas: 3, spanned: 3 },
    { count: 6, racks: 2, replicas: 3, spanned: 2 },
    { count: 6, racks: 3, replicas: 2, spanned: 2 },
    { count: 4, racks: 4, replicas: 3, spanned: 3 },
  ];
  for (const { count, racks, replicas, spanned } of cases) {
    const members = makeMembers(count, { racks });
    const ring = new Ring(members, replicas);
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const list = ring.preferenceList(slot);
      assert.equal(new Set(list).size, replicas, `slot ${slot}: distinct members`);
      const listRacks = new Set(list.map((index) => (ring.members[index] as RingMember).rack));
      assert.equal(listRacks.size, spanned, `${count} nodes, ${racks} racks, slot ${slot}`);
    }
  }
});

test('racks: a rack with a single node holds a replica of every slot', () => {
  const members = makeMembers(5).map((member, index) =>
    ({ ...member, rack: index === 0 ? 'alone' : 'crowded' }));
  const ring = new Ring(members, 2);
  const alone = ring.indexOf((members[0] as RingMember).id);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    assert.ok(ring.preferenceList(slot).includes(alone), `slot ${slot}`);
  }
  assert.equal((ring.ownership()[alone] as { replica: number }).replica, SLOT_COUNT);
});

test('placement matches an independent reference walk of the ring', () => {
  const memberArbitrary = fc.record({
    name: fc.string({ minLength: 1, maxLength: 12 }),
    tokens: fc.integer({ min: 1, max: 24 }),
    rack: fc.constantFrom('', 'a', 'b', 'c'),
  });
  fc.assert(fc.property(
    fc.uniqueArray(memberArbitrary, { minLength: 1, maxLength: 7, selector: (m) => m.name }),
    fc.integer({ min: 1, max: 5 }),
    (specs, replicas) => {
      const members = specs.map((spec) =>
        ({ id: nodeId(spec.name), tokens: spec.tokens, rack: spec.rack }));
      const ring = new Ring(members, replicas);
      for (let slot = 0; slot < SLOT_COUNT; slot += 331) {
        assert.deepEqual(listIds(ring, slot), referenceList(members, slot, replicas));
      }
      assert.deepEqual(listIds(ring, SLOT_COUNT - 1),
        referenceList(members, SLOT_COUNT - 1, replicas));
    }), { numRuns: 40, seed: 20240601 });
});

test('an empty ring places nothing', () => {
  const ring = new Ring([], 3);
  assert.equal(ring.effectiveReplicas, 0);
  assert.deepEqual(ring.preferenceList(0), []);
  assert.deepEqual(ring.preferenceList(SLOT_COUNT - 1), []);
  assert.equal(ring.primaryOf(100), -1);
  assert.deepEqual(ring.slotRanges(), []);
  assert.deepEqual(ring.ownership(), []);
  assert.equal(ring.indexOf(nodeId('node-0')), -1);
});

test('a single member holds every slot in one range', () => {
  const ring = new Ring(makeMembers(1), 3);
  assert.deepEqual(ring.slotRanges(), [{ start: 0, end: SLOT_COUNT - 1, members: [0] }]);
  assert.deepEqual(ring.ownership(), [{ primary: SLOT_COUNT, replica: SLOT_COUNT }]);
});

test('invalid rings are programmer errors', () => {
  assert.throws(() => new Ring(makeMembers(3), 0), AssertionError);
  const twice = [...makeMembers(2), { ...(makeMembers(1)[0] as RingMember), rack: 'other' }];
  assert.throws(() => new Ring(twice, 3), AssertionError);
});

test('determinism: the same members in any order build the same table', () => {
  const members = makeMembers(7, { racks: 2 });
  const reference = new Ring(members, 3);
  const orders = [[...members].reverse(), [...members.slice(3), ...members.slice(0, 3)]];
  for (const order of orders) {
    const ring = new Ring(order, 3);
    assert.deepEqual(ring.members, reference.members);
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      assert.deepEqual(ring.preferenceList(slot), reference.preferenceList(slot));
    }
    assert.deepEqual(ring.slotRanges(), reference.slotRanges());
  }
  // Members are sorted by id, and a member's tokens depend on its id alone.
  const ids = reference.members.map((member) => member.id);
  assert.deepEqual(ids, [...ids].sort());
  const lone = members[4] as RingMember;
  assert.deepEqual(new Ring([lone], 1).tokensOf(0), reference.tokensOf(reference.indexOf(lone.id)));
});

// Golden values: never update these to make a change pass. They decide where data lives.
const GOLDEN_IDS = {
  a: '0702c1cc60ff9e1331c47331a36ddd5d994ea38a',
  b: '893a227aaca1e12a5fa1c0201c0e38b8f3b1536b',
  c: '1ab9f16eafea8cce18a8abf188e9376c94c4c0cd',
  d: '13a52578de340bb946011c7255926eaec4c5c4d6',
  e: 'c74cad16cc5fcd3b4884624cb9afc82438f0dd8b',
} as const;

function goldenRing(racks: Record<keyof typeof GOLDEN_IDS, string> | null): Ring {
  const names = Object.keys(GOLDEN_IDS) as Array<keyof typeof GOLDEN_IDS>;
  return new Ring(names.map((name) => ({
    id: GOLDEN_IDS[name], tokens: VNODES, rack: racks === null ? '' : racks[name],
  })), 3);
}

function goldenNames(ring: Ring, slot: number): string {
  const byId = new Map<string, string>(Object.entries(GOLDEN_IDS).map(([name, id]) => [id, name]));
  return listIds(ring, slot).map((id) => byId.get(id)).join('');
}

test('golden: tokens of a node id', () => {
  assert.deepEqual(memberTokens(GOLDEN_IDS.a, 4), [87454167, 249976001, 645423669, 4105577566]);
  assert.equal(memberTokens(GOLDEN_IDS.a, 4)[2], murmur3(Buffer.from(`${GOLDEN_IDS.a}:2`)));
  assert.equal(slotPosition(0), 0);
  assert.equal(slotPosition(1), 2 ** 18);
  assert.equal(slotPosition(SLOT_COUNT - 1), 2 ** 32 - 2 ** 18);
});

test('golden: preference lists of five fixed node ids', () => {
  const plain = goldenRing(null);
  const expected: Array<[number, string]> = [
    [0, 'dba'], [1, 'dba'], [5061, 'dab'], [8191, 'bdc'], [12182, 'ecb'], [16383, 'dba'],
  ];
  for (const [slot, names] of expected) assert.equal(goldenNames(plain, slot), names, `${slot}`);
  assert.equal(plain.slotRanges().length, 503);
  assert.deepEqual(plain.ownership().map((share) => share.primary),
    [3180, 3257, 3212, 3679, 3056]);

  const racked = goldenRing({ a: 'x', b: 'y', c: 'y', d: 'z', e: 'z' });
  const rackExpected: Array<[number, string]> = [
    [0, 'dba'], [5061, 'dab'], [8191, 'bda'], [12182, 'eca'], [16383, 'dba'],
  ];
  for (const [slot, names] of rackExpected) {
    assert.equal(goldenNames(racked, slot), names, `racks, slot ${slot}`);
  }
});

test('slotRanges cover every slot once, in order, each range a different list', () => {
  for (const ring of [goldenRing(null), new Ring(makeMembers(10, { racks: 3 }), 3),
    new Ring(makeMembers(2), 3)]) {
    const ranges = ring.slotRanges();
    assert.equal((ranges[0] as { start: number }).start, 0);
    assert.equal((ranges[ranges.length - 1] as { end: number }).end, SLOT_COUNT - 1);
    let next = 0;
    let previous: readonly number[] | null = null;
    for (const range of ranges) {
      assert.equal(range.start, next, 'ranges are contiguous');
      assert.ok(range.end >= range.start);
      assert.notDeepEqual(range.members, previous, 'consecutive ranges differ');
      for (let slot = range.start; slot <= range.end; slot++) {
        assert.deepEqual(ring.preferenceList(slot), range.members);
      }
      next = range.end + 1;
      previous = range.members;
    }
    assert.equal(next, SLOT_COUNT);
  }
});

test('tokensOf: sorted, as many as configured', () => {
  const ring = new Ring(makeMembers(3, { tokens: 32 }), 2);
  for (let index = 0; index < 3; index++) {
    const tokens = ring.tokensOf(index);
    assert.equal(tokens.length, 32);
    assert.deepEqual(tokens, [...tokens].sort((a, b) => a - b));
    assert.deepEqual(tokens, memberTokens((ring.members[index] as RingMember).id, 32)
      .sort((a, b) => a - b));
  }
});
