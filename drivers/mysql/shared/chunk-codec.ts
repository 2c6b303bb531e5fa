/**
 * How a dump's chunk files are compressed, as their names say:
 *
 * - `.tsv.zst`: zstd level 1, a content checksum in every frame — what backups write. On dump
 *   lines it compresses ~4× faster than gzip -1 to a slightly smaller file and inflates 3–5× faster
 *   (measured on the Schemaless benchmark's cells: 35 MB of lines, 0.12 s vs 0.50 s, 13.7 vs
 *   14.5 MB), and the dump's CPU is mostly compression;
 * - `.tsv.gz`: gzip — what backups wrote before; still read.
 *
 * A chunk is a run of independent frames (one per encoded batch) that `zstd -dc` / `gunzip -c`
 * read as one file; a corrupt byte or a missing end fails either (checksum, CRC-32).
 */
import type { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DecompressStream, compress } from 'zstd-napi';

export type ChunkCodec = 'zstd' | 'gzip';

/** What new chunks are written with. */
export const CHUNK_CODEC: ChunkCodec = 'zstd';

/** zstd's frame parameters for chunks. */
export const ZSTD_CHUNK_FRAME = { compressionLevel: 1, checksumFlag: true } as const;

const SUFFIXES: ReadonlyArray<[ChunkCodec, string]> = [['zstd', '.tsv.zst'], ['gzip', '.tsv.gz']];

/** The file-name suffix of a chunk compressed with `codec`. */
export function chunkSuffix(codec: ChunkCodec = CHUNK_CODEC): string {
  return SUFFIXES.find(([c]) => c === codec)![1];
}

/**
 * The codec of the chunk file or artifact `name`.
 * @throws Error when the name is not a chunk's
 */
export function codecOf(name: string): ChunkCodec {
  const found = SUFFIXES.find(([, suffix]) => name.endsWith(suffix));
  if (!found) throw new Error(`${name} is not a chunk file (${SUFFIXES.map(([, s]) => s).join(' or ')})`);
  return found[0];
}

/** A stream inflating the chunk file `name` (its codec from its name). */
export function inflater(name: string): Transform {
  return codecOf(name) === 'zstd' ? new DecompressStream() : createGunzip({ chunkSize: 256 * 1024 });
}

/** A frame of `lines` as new chunks hold them. */
export function compressLines(lines: Uint8Array): Buffer {
  return compress(lines, ZSTD_CHUNK_FRAME);
}

/** A chunk without rows: one empty frame (still a valid file). */
export const EMPTY_CHUNK: Buffer = compressLines(new Uint8Array(0));

/**
 * Source text defining `compressLines(lines)` and `inflateFrame(frame)` in an encoder thread
 * (evaluated there, so the addon is loaded by its resolved path: an evaluated thread resolves
 * packages from the working directory, not from this file).
 */
export function codecSource(): string {
  return `const zstd = require(${JSON.stringify(require.resolve('zstd-napi'))});
const compressLines = (lines) => zstd.compress(lines, ${JSON.stringify(ZSTD_CHUNK_FRAME)});
const inflateFrame = (frame) => zstd.decompress(frame);`;
}
