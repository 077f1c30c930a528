/** An in-memory StorageTable for unit tests of code that keeps state in a table. */
import type { StorageTable } from '../../src/storage/engine.js';

export class MemoryTable implements StorageTable {
  private readonly entries = new Map<string, Buffer>();

  get size(): number {
    return this.entries.size;
  }

  get(key: Buffer): Buffer | undefined {
    return this.entries.get(key.toString('latin1'));
  }

  put(key: Buffer, value: Buffer): void {
    this.entries.set(key.toString('latin1'), Buffer.from(value));
  }

  remove(key: Buffer): void {
    this.entries.delete(key.toString('latin1'));
  }

  range(start: Buffer, end: Buffer, limit: number): Array<[Buffer, Buffer]> {
    return [...this.entries.entries()]
      .map(([key, value]): [Buffer, Buffer] => [Buffer.from(key, 'latin1'), value])
      .filter(([key]) => Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0)
      .sort((a, b) => Buffer.compare(a[0], b[0]))
      .slice(0, limit);
  }
}
