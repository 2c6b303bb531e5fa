import { decompress } from 'zstd-napi';
import { EncodePool } from '../../../drivers/mysql/shared/encode-pool';
import { encodePackets, type RawRow } from '../../../drivers/mysql/shared/row-format';
import { packRow } from '../../../drivers/mysql/shared/row-packet';
import { TableDigest } from '../../../drivers/mysql/shared/table-digest';

const rows = (from: number, count: number): RawRow[] => Array.from({ length: count }, (_, i) => {
  const n = from + i;
  return [Buffer.from(String(n)), n % 7 === 0 ? null : Buffer.from(`name\t${n}\\\n`), Buffer.from([n & 0xff, 0, 13]), n % 50 === 0 ? Buffer.alloc(70_000, n & 0xff) : Buffer.alloc(0)];
});

describe('EncodePool', () => {
  let pool: EncodePool;
  beforeAll(() => { pool = new EncodePool(2); });
  afterAll(() => pool.close());

  it('gives back, per batch, one zstd frame of exactly the lines and the digest the main thread computes', async () => {
    // Prepare
    const packets = rows(0, 1500).map(packRow);
    const expected = new TableDigest();
    packets.forEach((p) => expected.addPacket(p));

    // Act
    const batch = await pool.encode(packets);
    const digest = new TableDigest();
    digest.mergeSum(batch.sum, batch.rows);

    // Assess
    expect(decompress(batch.frame).equals(encodePackets(packets))).toBe(true);
    expect(digest.hex()).toBe(expected.hex());
    expect(digest.rows).toBe(1500);
  });

  it('encodes many batches at once across its threads; their frames concatenated are one valid zstd stream', async () => {
    // Prepare
    const batches = Array.from({ length: 12 }, (_, b) => rows(b * 300, 300).map(packRow));

    // Act
    const encoded = await Promise.all(batches.map((packets) => pool.encode(packets)));

    // Assess
    expect(decompress(Buffer.concat(encoded.map((e) => e.frame))).equals(Buffer.concat(batches.map((p) => encodePackets(p))))).toBe(true);
  });

  it('encodes batch after batch of other sizes on threads that reuse their buffers: each frame and digest is its own batch\'s, nothing of an earlier one', async () => {
    // Prepare: large, then small, then large again, on one thread, so each reuses the buffers the one before it left
    const single = new EncodePool(1);
    const sizes = [2000, 3, 900, 1, 2500, 40];
    let from = 0;
    const batches = sizes.map((count) => rows((from += count), count).map(packRow));

    try {
      for (const packets of batches) {
        // Act
        const batch = await single.encode(packets);

        // Assess
        const expected = new TableDigest();
        packets.forEach((p) => expected.addPacket(p));
        const digest = new TableDigest();
        digest.mergeSum(batch.sum, batch.rows);
        expect(decompress(batch.frame).equals(encodePackets(packets))).toBe(true);
        expect(digest.hex()).toBe(expected.hex());
      }
    } finally {
      await single.close();
    }
  });

  it('refuses a batch whose frame does not read back as the rows it was given, for good (MYSQL_READ_BACK_MISMATCH)', async () => {
    // Prepare
    const spoiling = new EncodePool(1, { spoilFrames: true });

    try {
      // Act
      const encoding = spoiling.encode(rows(0, 10).map(packRow));

      // Assess
      await expect(encoding).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_READ_BACK_MISMATCH', message: expect.stringMatching(/^row 10 of a batch of 10 does not read back/) });
    } finally {
      await spoiling.close();
    }
  });

  it('fails the batches of a thread that stops, instead of hanging', async () => {
    // Prepare
    const doomed = new EncodePool(1);
    const pending = doomed.encode(rows(0, 5000).map(packRow));

    // Act
    await doomed.close();

    // Assess
    await expect(pending).rejects.toThrow(/encoder thread exited/);
  });

  it('counts the packet bytes in flight at once (batches handed over together, not those already encoded) and the largest batch', async () => {
    // Prepare
    const counting = new EncodePool(2);
    const batches = Array.from({ length: 3 }, (_, b) => rows(b * 100, 100).map(packRow));
    const bytes = batches.map((packets) => packets.reduce((sum, p) => sum + p.length, 0));

    try {
      // Act
      await counting.encode(batches[0]);
      const once = counting.peakInFlightBytes;
      await Promise.all([counting.encode(batches[1]), counting.encode(batches[2])]);

      // Assess
      expect(once).toBe(bytes[0]);
      expect(counting.peakInFlightBytes).toBe(Math.max(bytes[0], bytes[1] + bytes[2]));
      expect(counting.largestBatchBytes).toBe(Math.max(...bytes));
    } finally {
      await counting.close();
    }
  });

  it('encodes a batch of NULL-heavy rows whole (a NULL is one packet byte and three line bytes)', async () => {
    // Prepare
    const packets = Array.from({ length: 200 }, (_, i) => packRow([Buffer.from(String(i)), null, null, null, null, null, null]));

    // Act
    const batch = await pool.encode(packets);

    // Assess
    const lines = decompress(batch.frame).toString('latin1').split('\n');
    expect(lines).toHaveLength(201);
    expect(lines[199]).toBe('199\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N');
  });
});
