/**
 * A set of objects that each keep their own position: add and delete in O(1) with one
 * array and no hash table. For sets on the hot path whose size follows the load, where a
 * Map or Set would keep replacing its table (see coordinator/key-locks.ts for what those
 * replaced tables cost the garbage collector).
 */
export interface Listed {
  /** Position in the list holding it; -1 when in none. */
  listIndex: number;
}

export class IndexedList<T extends Listed> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (item.listIndex !== -1) return;
    item.listIndex = this.items.length;
    this.items.push(item);
  }

  /** Removes `item` (the last item takes its place). */
  delete(item: T): void {
    const index = item.listIndex;
    if (index === -1 || this.items[index] !== item) return;
    const last = this.items.pop() as T;
    if (last !== item) {
      this.items[index] = last;
      last.listIndex = index;
    }
    item.listIndex = -1;
  }

  /** The items now, in a new array (safe to iterate while items come and go). */
  snapshot(): T[] {
    return this.items.slice();
  }
}
