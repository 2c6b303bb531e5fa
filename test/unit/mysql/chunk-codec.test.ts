import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  WHOLE_READ_BYTES, chunkFileLines, chunkSuffix, codecOf, compressLines, emptyChunk,
} from '../../../drivers/mysql/shared/chunk-codec';

describe('chunk codec', () => {
  const lines = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `${i}\tvalue ${i % 97}\n`).join(''));

  it('names chunk files by their codec, and refuses a file whose name is not a chunk\'s', () => {
    expect(chunkSuffix()).toBe('.tsv.zst');
    expect(codecOf('data/db/t/000003.tsv.gz')).toBe('gzip');
    expect(codecOf('data/db/t/000003.tsv.zst')).toBe('zstd');
    expect(() => codecOf('000000.tsv')).toThrow('000000.tsv is not a chunk file (.tsv.zst or .tsv.gz)');
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

    it('writes zstd chunks; a chunk of several frames, an empty one among them, reads as one file; and reads the gzip chunks of older backups', async () => {
      const chunk = Buffer.concat([compressLines(lines.subarray(0, 1000)), emptyChunk(), compressLines(lines.subarray(1000))]);
      const old = Buffer.concat([gzipSync(lines.subarray(0, 1000)), gzipSync(lines.subarray(1000))]);
      expect((await linesOf(`frames${chunkSuffix()}`, chunk)).equals(lines)).toBe(true);
      expect((await linesOf('older.tsv.gz', old)).equals(lines)).toBe(true);
    });

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
