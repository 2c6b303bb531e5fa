import { Readable } from 'node:stream';
import type { RowPacket } from '../../../drivers/mysql/shared/row-packet';
import { BATCH } from '../../../drivers/mysql/shared/row-packet';
import { RowCursor, type RowBatch } from '../../../drivers/mysql/logical/row-cursor';

const MiB = 1024 * 1024;

/** A packet of `size` bytes (the tests compare packets by identity: each is its own row). */
const packet = (index: number, size: number): RowPacket => Buffer.alloc(size, index & 0xff);

/** Every batch of `cursor` until the end, taken with `limit`. */
async function batchesOf(cursor: RowCursor, limit = BATCH): Promise<RowBatch[]> {
  const batches: RowBatch[] = [];
  for (let batch = await cursor.take(limit); batch.rows.length > 0; batch = await cursor.take(limit)) batches.push(batch);
  return batches;
}

const total = (rows: RowPacket[]): number => rows.reduce((sum, row) => sum + row.length, 0);

describe('RowCursor batches', () => {
  it('never exceed the batch bytes, except a single row wider than that, and keep every row in order', async () => {
    // Prepare: narrow rows, rows of 1–4 MB, rows wider than a batch, in a mix.
    const sizes = [
      ...Array.from({ length: 3000 }, (_, i) => 20 + (i % 300)),
      ...Array.from({ length: 40 }, (_, i) => 1_000_000 + ((i * 7919) % 3_000_000)),
      BATCH.bytes + 1, 6 * MiB, 8,
      ...Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 3 * MiB : 1_500_000)),
      BATCH.bytes, 1, BATCH.bytes - 1,
    ];
    const rows = sizes.map((size, i) => packet(i, size));

    // Act
    const batches = await batchesOf(new RowCursor(Readable.from(rows)));

    // Assess
    const taken = batches.flatMap((b) => b.rows);
    expect(taken).toHaveLength(rows.length);
    expect(taken.every((row, i) => row === rows[i])).toBe(true);
    for (const batch of batches) {
      expect(batch.bytes).toBe(total(batch.rows));
      expect(batch.rows.length).toBeLessThanOrEqual(BATCH.rows);
      if (batch.rows.length > 1) expect(batch.bytes).toBeLessThanOrEqual(BATCH.bytes);
    }
    expect(batches.filter((b) => b.bytes > BATCH.bytes).map((b) => b.rows.length)).toEqual([1, 1]);
  });

  it('closes a batch of narrow rows at the batch rows', async () => {
    // Prepare
    const rows = Array.from({ length: 2 * BATCH.rows + 452 }, (_, i) => packet(i, 100));

    // Act
    const batches = await batchesOf(new RowCursor(Readable.from(rows)));

    // Assess
    expect(batches.map((b) => b.rows.length)).toEqual([BATCH.rows, BATCH.rows, 452]);
  });

  it('keeps a row that did not fit for the next batch, and knows whether one follows', async () => {
    // Prepare
    const rows = [packet(0, 600), packet(1, 600), packet(2, 10)];
    const cursor = new RowCursor(Readable.from(rows));
    const limit = { rows: 10, bytes: 1000 };

    // Act
    const first = await cursor.take(limit);
    const more = await cursor.hasMore();
    const second = await cursor.take(limit);
    const after = await cursor.hasMore();

    // Assess
    expect(first.rows).toEqual([rows[0]]);
    expect(more).toBe(true);
    expect(second.rows).toEqual([rows[1], rows[2]]);
    expect(after).toBe(false);
  });
});
