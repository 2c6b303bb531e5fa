import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  WHOLE_READ_BYTES, chunkFileLines, chunkSuffix, codecOf, compressLines, emptyChunk, inflater,
} from '../../../drivers/mysql/shared/chunk-codec';

/** `bytes` inflated by the codec `name` says, as a chunk file is read (64 KiB pieces). */
async function inflate(bytes: Buffer, name: string): Promise<Buffer> {
  const pieces = Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, i) => bytes.subarray(i * 65_536, (i + 1) * 65_536));
  const out: Buffer[] = [];
  for await (const piece of Readable.from(pieces).pipe(inflater(name))) out.push(piece as Buffer);
  return Buffer.concat(out);
}

describe('chunk codec', () => {
  const lines = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `${i}\tvalue ${i % 97}\n`).join(''));

  it('writes zstd chunks; a chunk of several frames, an empty one among them, inflates as one file', async () => {
    const chunk = Buffer.concat([compressLines(lines.subarray(0, 1000)), emptyChunk(), compressLines(lines.subarray(1000))]);
    expect(chunkSuffix()).toBe('.tsv.zst');
    expect((await inflate(chunk, '000000.tsv.zst')).equals(lines)).toBe(true);
  });

  it('reads the gzip chunks of older backups by their name', async () => {
    const chunk = Buffer.concat([gzipSync(lines.subarray(0, 1000)), gzipSync(lines.subarray(1000))]);
    expect(codecOf('data/db/t/000003.tsv.gz')).toBe('gzip');
    expect((await inflate(chunk, '000000.tsv.gz')).equals(lines)).toBe(true);
  });

  it('fails on a flipped byte (every frame carries a checksum) and on a missing end', async () => {
    const chunk = compressLines(lines);
    const flipped = Buffer.from(chunk);
    flipped[Math.floor(chunk.length / 2)] ^= 0x01;
    await expect(inflate(flipped, '000000.tsv.zst')).rejects.toThrow(/checksum|corrupt/i);
    await expect(inflate(chunk.subarray(0, chunk.length - 10), '000000.tsv.zst')).rejects.toThrow(/ended in middle/i);
  });

  it('refuses a file whose name is not a chunk\'s', () => {
    expect(() => inflater('000000.tsv')).toThrow('000000.tsv is not a chunk file (.tsv.zst or .tsv.gz)');
  });

  describe('chunk files', () => {
    let dir: string;
    beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'chunk-files-')); });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    /** Writes `bytes` as chunk file `name` and reads its lines back as a load does. */
    async function linesOf(name: string, bytes: Buffer): Promise<Buffer> {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      const out: Buffer[] = [];
      for await (const piece of chunkFileLines(file)) out.push(piece);
      return Buffer.concat(out);
    }

    it('reads a small zstd file whole, a frame at a time, a big one a piece at a time and a gzip one as a stream: the same lines', async () => {
      const small = Buffer.concat([compressLines(lines.subarray(0, 1000)), emptyChunk(), compressLines(lines.subarray(1000))]);
      const noise = randomBytes(WHOLE_READ_BYTES + 1000); // does not compress: a file over the limit
      const big = Buffer.concat([compressLines(noise), compressLines(lines)]);

      expect(small.length).toBeLessThanOrEqual(WHOLE_READ_BYTES);
      expect((await linesOf('small.tsv.zst', small)).equals(lines)).toBe(true);
      expect(big.length).toBeGreaterThan(WHOLE_READ_BYTES);
      expect((await linesOf('big.tsv.zst', big)).equals(Buffer.concat([noise, lines]))).toBe(true);
      expect((await linesOf('old.tsv.gz', gzipSync(lines))).equals(lines)).toBe(true);
      const wide = Buffer.alloc(17 << 20, 0x61); // a frame inflating past what is read whole: a piece at a time
      expect((await linesOf('wide.tsv.zst', Buffer.concat([compressLines(lines), compressLines(wide)]))).equals(Buffer.concat([lines, wide]))).toBe(true);
    });

    it('fails on a flipped byte and on a missing end of a file read whole', async () => {
      const chunk = Buffer.concat([compressLines(lines.subarray(0, 1000)), compressLines(lines.subarray(1000))]);
      const flipped = Buffer.from(chunk);
      flipped[chunk.length - 100] ^= 0x01;

      await expect(linesOf('flipped.tsv.zst', flipped)).rejects.toThrow(/flipped.tsv.zst is not whole zstd.*(checksum|corrupt)/i);
      await expect(linesOf('cut.tsv.zst', chunk.subarray(0, chunk.length - 10))).rejects.toMatchObject({ code: 'BACKUP_CORRUPT', message: expect.stringContaining('cut.tsv.zst is not whole zstd') });
    });

    it('fails NOT_FOUND naming a chunk file that is missing', async () => {
      const reading = (async () => {
        for await (const piece of chunkFileLines(path.join(dir, 'gone.tsv.zst'))) void piece;
      })();
      await expect(reading).rejects.toMatchObject({ name: 'PermanentError', code: 'NOT_FOUND', message: expect.stringContaining('gone.tsv.zst is missing') });
    });

    it('reads a big zstd file a piece of at most 1 MiB at a time, and fails BACKUP_CORRUPT on a flipped byte or a missing end', async () => {
      const noise = randomBytes(3 * WHOLE_READ_BYTES + 12_345);
      const big = Buffer.concat([compressLines(lines), compressLines(noise), compressLines(lines)]);
      const file = path.join(dir, 'pieces.tsv.zst');
      await writeFile(file, big);
      const pieces: Buffer[] = [];
      for await (const piece of chunkFileLines(file)) pieces.push(piece);
      const flipped = Buffer.from(big);
      flipped[big.length - 100] ^= 0x01;

      expect(Buffer.concat(pieces).equals(Buffer.concat([lines, noise, lines]))).toBe(true);
      expect(Math.max(...pieces.map((p) => p.length))).toBe(1 << 20);
      await expect(linesOf('big-flipped.tsv.zst', flipped)).rejects.toMatchObject({ code: 'BACKUP_CORRUPT', message: expect.stringMatching(/big-flipped.tsv.zst is not whole zstd.*(checksum|corrupt)/i) });
      await expect(linesOf('big-cut.tsv.zst', big.subarray(0, big.length - 10))).rejects.toMatchObject({ code: 'BACKUP_CORRUPT', message: expect.stringContaining('big-cut.tsv.zst is not whole zstd') });
    });
  });
});
