import { decompress } from 'zstd-napi';
import { compressLines } from '../../../drivers/mysql/shared/chunk-codec';
import { EncodePool, leastBusy } from '../../../drivers/mysql/shared/encode-pool';
import { framePackets } from '../../harness/framed-packets';
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
    const batch = await pool.encode(framePackets(packets));
    const digest = new TableDigest();
    digest.mergeSum(batch.sum, batch.rows);

    // Assess
    expect(decompress(batch.frame).equals(encodePackets(packets))).toBe(true);
    expect(digest.hex()).toBe(expected.hex());
    expect(digest.rows).toBe(1500);
    expect(pool.batchesEncodedBy).toEqual({ webassembly: 1, javascript: 0 });
  });

  it('encodes in JavaScript a batch too large for its WebAssembly kernel: the same frame and digest, the same refusals', async () => {
    // Prepare: a kernel that takes no batch
    const javascript = new EncodePool(1, { kernelMostBytes: 0 });
    const packets = rows(0, 1500).map(packRow);
    const expected = new TableDigest();
    packets.forEach((p) => expected.addPacket(p));

    try {
      // Act
      const batch = await javascript.encode(framePackets(packets));
      const digest = new TableDigest();
      digest.mergeSum(batch.sum, batch.rows);
      const truncated = javascript.encode(framePackets([Buffer.concat([Buffer.from([1, 0x37, 0xfc, 0xe8, 0x03]), Buffer.from('0123456789')])]));

      // Assess
      expect(batch.frame.equals(compressLines(encodePackets(packets)))).toBe(true);
      expect(digest.hex()).toBe(expected.hex());
      await expect(truncated).rejects.toThrow(/a row packet of 15 bytes has a field of 1000 bytes at byte 5, past its end/);
      expect(javascript.batchesEncodedBy).toEqual({ webassembly: 0, javascript: 1 });
    } finally {
      await javascript.close();
    }
  });

  it('encodes many batches at once across its threads; their frames concatenated are one valid zstd stream', async () => {
    // Prepare
    const batches = Array.from({ length: 12 }, (_, b) => rows(b * 300, 300).map(packRow));

    // Act
    const encoded = await Promise.all(batches.map((packets) => pool.encode(framePackets(packets))));

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
        const batch = await single.encode(framePackets(packets));

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

  it.each([
    ['lines', /^row 10 of a batch of 10 does not read back/],
    ['frame', /^the compressed lines of a batch of 10 rows do not inflate to exactly its lines/],
  ] as const)('refuses for good (MYSQL_READ_BACK_MISMATCH) a batch whose %s, spoiled, do not read back as the rows it was given', async (spoil, message) => {
    // Prepare
    const spoiling = new EncodePool(1, { spoil });

    try {
      // Act
      const encoding = spoiling.encode(framePackets(rows(0, 10).map(packRow)));

      // Assess
      await expect(encoding).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_READ_BACK_MISMATCH', message: expect.stringMatching(message) });
      // the thread goes on: the next batch, not spoiled by a buffer the refused one left, is refused the same way and no other
      await expect(spoiling.encode(framePackets(rows(10, 10).map(packRow)))).rejects.toMatchObject({ code: 'MYSQL_READ_BACK_MISMATCH', message: expect.stringMatching(message) });
    } finally {
      await spoiling.close();
    }
  });

  it('writes frames as the main thread\'s codec writes them (zstd level 1, a content checksum): batches small and large', async () => {
    for (const count of [1, 700, 6000]) {
      // Prepare
      const packets = rows(count, count).map(packRow);

      // Act
      const batch = await pool.encode(framePackets(packets));

      // Assess
      expect(batch.frame.equals(compressLines(encodePackets(packets)))).toBe(true);
    }
  });

  it('refuses a row packet whose field runs past its end, and takes nothing from the bytes after it (an earlier batch\'s)', async () => {
    // Prepare: a batch whose buffer goes back to the pool, then a packet declaring a 1 000-byte field that holds 10
    const single = new EncodePool(1);
    const truncated = Buffer.concat([Buffer.from([1, 0x37, 0xfc, 0xe8, 0x03]), Buffer.from('0123456789')]);

    try {
      await single.encode(framePackets([packRow([Buffer.from('1'), Buffer.alloc(200_000, 0x53)])]));

      // Act
      const encoding = single.encode(framePackets([truncated]));

      // Assess
      await expect(encoding).rejects.toThrow(/a row packet of 15 bytes has a field of 1000 bytes at byte 5, past its end/);
    } finally {
      await single.close();
    }
  });

  it('keeps the packet buffers of answered batches for later ones, and lets them go once idle a while (the shared pool outlives a dump)', async () => {
    // Prepare
    const idling = new EncodePool(1);

    try {
      // Act
      await idling.encode(framePackets(rows(0, 500).map(packRow)));
      const keptAfterBatch = idling.keptBytes;
      const deadline = Date.now() + 30_000;
      while (idling.keptBytes > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

      // Assess
      expect(keptAfterBatch).toBeGreaterThan(0);
      expect(idling.keptBytes).toBe(0);
      const packets = rows(500, 300).map(packRow);
      const batch = await idling.encode(framePackets(packets)); // the thread let go of its buffers too, and makes new ones
      expect(decompress(batch.frame).equals(encodePackets(packets))).toBe(true);
    } finally {
      await idling.close();
    }
  });

  it('fails the batches of a thread that stops, instead of hanging', async () => {
    // Prepare
    const doomed = new EncodePool(1);
    const pending = doomed.encode(framePackets(rows(0, 5000).map(packRow)));

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
      await counting.encode(framePackets(batches[0]));
      const once = counting.peakInFlightBytes;
      await Promise.all([counting.encode(framePackets(batches[1])), counting.encode(framePackets(batches[2]))]);

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
    const batch = await pool.encode(framePackets(packets));

    // Assess
    const lines = decompress(batch.frame).toString('latin1').split('\n');
    expect(lines).toHaveLength(201);
    expect(lines[199]).toBe('199\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N');
  });

  it('gives each batch to the thread with the fewest bytes pending, equals in turn: a small batch does not wait behind a large one', () => {
    expect(leastBusy([4_000_000, 0], 0)).toBe(1);
    expect(leastBusy([0, 4_000_000], 1)).toBe(0);
    expect(leastBusy([100, 100, 100], 1)).toBe(1);
    expect(leastBusy([100, 100, 50], 1)).toBe(2);
    expect(leastBusy([0, 0], 1)).toBe(1);
    expect(leastBusy([7], 0)).toBe(0);
  });
});

