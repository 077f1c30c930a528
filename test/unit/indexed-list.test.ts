import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedList, type Listed } from '../../src/util/indexed-list.js';

interface Item extends Listed {
  name: string;
}

function item(name: string): Item {
  return { name, listIndex: -1 };
}

const names = (list: IndexedList<Item>): string[] =>
  list.snapshot().map((each) => each.name).sort();

test('items are added once and deleted from anywhere in the list', () => {
  const list = new IndexedList<Item>();
  const [a, b, c] = [item('a'), item('b'), item('c')];
  list.add(a);
  list.add(b);
  list.add(c);
  list.add(b);
  assert.equal(list.size, 3);
  list.delete(a);
  assert.deepEqual(names(list), ['b', 'c']);
  assert.equal(a.listIndex, -1);
  list.delete(a);
  list.delete(c);
  assert.deepEqual(names(list), ['b']);
  list.delete(b);
  assert.equal(list.size, 0);
});

test('an item of another list is not deleted by this one', () => {
  const [first, second] = [new IndexedList<Item>(), new IndexedList<Item>()];
  const [a, b] = [item('a'), item('b')];
  first.add(a);
  second.add(b);
  second.delete(a);
  assert.deepEqual(names(first), ['a']);
  assert.deepEqual(names(second), ['b']);
});

test('a snapshot stays whole while items are deleted', () => {
  const list = new IndexedList<Item>();
  const items = ['a', 'b', 'c', 'd'].map(item);
  for (const each of items) list.add(each);
  const seen: string[] = [];
  for (const each of list.snapshot()) {
    seen.push(each.name);
    list.delete(each);
    if (each.name === 'a') list.delete(items[3] as Item);
  }
  assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
  assert.equal(list.size, 0);
});
