import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SnapshotTrailerCheck, verifySnapshotFile } from '../../../drivers/etcd/snapshot-trailer';

/** A payload followed by its sha256, as etcd's Maintenance snapshot stream ends. */
function withTrailer(payload: Buffer): Buffer {
  return Buffer.concat([payload, createHash('sha256').update(payload).digest()]);
}

/** Splits a buffer into chunks of the given sizes (cycled). */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < data.length; i += 1) {
    const size = sizes[i % sizes.length];
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Runs chunks through the check; returns what came out. */
async function runCheck(chunks: Buffer[]): Promise<{ output: Buffer; check: SnapshotTrailerCheck }> {
  const check = new SnapshotTrailerCheck('test');
  const out: Buffer[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { out.push(chunk); cb(); } });
  await pipeline(Readable.from(chunks), check, sink);
  return { output: Buffer.concat(out), check };
}

describe('SnapshotTrailerCheck', () => {
  it.each([
    ['one chunk', [1_000_000]],
    ['chunks larger than the trailer', [32 * 1024]],
    ['tiny chunks straddling the trailer', [1, 7, 31, 32, 33]],
    ['byte by byte at the end', [99_990, 1]],
  ])('passes a valid stream through unchanged (%s)', async (_label, sizes) => {
    // Prepare
    const data = withTrailer(randomBytes(100_000));

    // Act
    const { output, check } = await runCheck(chunked(data, sizes));

    // Assess
    expect(output.equals(data)).toBe(true);
    expect(check.result).toEqual({ bytes: data.length, trailerSha256: data.subarray(-32).toString('hex') });
  });

  it('fails with SNAPSHOT_CORRUPT when one payload byte is flipped', async () => {
    // Prepare
    const data = withTrailer(randomBytes(50_000));
    data[12_345] ^= 0x01;

    // Act
    const run = runCheck(chunked(data, [4096]));

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'PermanentError', code: 'SNAPSHOT_CORRUPT' });
  });

  it('fails when the trailer itself is damaged or missing (truncated stream)', async () => {
    // Prepare
    const data = withTrailer(randomBytes(10_000));
    const badTrailer = Buffer.from(data);
    badTrailer[badTrailer.length - 1] ^= 0xff;
    const truncated = data.subarray(0, data.length - 10);

    // Act
    const badRun = runCheck([badTrailer]);
    const truncatedRun = runCheck([truncated]);

    // Assess
    await expect(badRun).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
    await expect(truncatedRun).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
  });

  it('fails with a "too short" error on input that cannot hold data and a trailer', async () => {
    // Act
    const empty = runCheck([]);
    const onlyTrailer = runCheck([createHash('sha256').update('').digest()]);

    // Assess
    await expect(empty).rejects.toThrow(/too short \(0 bytes\)/);
    await expect(onlyTrailer).rejects.toThrow(/too short \(32 bytes\)/);
  });
});

describe('verifySnapshotFile', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'trailer-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('accepts a file with a valid trailer and refuses a corrupted copy', async () => {
    // Prepare
    const good = path.join(dir, 'good.db');
    const bad = path.join(dir, 'bad.db');
    const data = withTrailer(randomBytes(200_000));
    await writeFile(good, data);
    const corrupted = Buffer.from(data);
    corrupted[100_000] ^= 0x80;
    await writeFile(bad, corrupted);

    // Act
    const result = await verifySnapshotFile(good);
    const refused = verifySnapshotFile(bad);

    // Assess
    expect(result.bytes).toBe(data.length);
    await expect(refused).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT', message: expect.stringContaining(bad) });
  });
});
