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
 *
 * zstd comes from the `zstd-napi` addon, loaded when a chunk is first written or read — never by
 * merely loading the drivers, so a host or function whose platform the addon was not built for
 * fails only there, saying so (`ZSTD_UNAVAILABLE`).
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { PermanentError } from '../../../core/errors';
import { zstd as loadZstd, zstdBinding as loadZstdBinding } from '../../../core/io/zstd';

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

const zstd = () => loadZstd('the chunks of MySQL dumps');
const zstdBinding = () => loadZstdBinding('the chunks of MySQL dumps');

/**
 * zstd chunk files this big at most are read whole and inflated a frame at a time, one call each:
 * a stream per file took ~1 ms a file, twenty times more, on a schema of 1 000 small tables.
 */
export const WHOLE_READ_BYTES = 1 << 20;

/**
 * A frame read whole inflates to this much at most (a dump batch's lines are ~4 MiB); a file
 * holding a bigger one — a row of a large, very compressible BLOB — is streamed instead.
 */
const WHOLE_FRAME_BYTES = 16 << 20;

/**
 * The lines of chunk file `file`, inflated: in frames when it is a small zstd file (see
 * {@link WHOLE_READ_BYTES}), else a piece at a time ({@link inflatedPieces}; gzip: as its
 * inflating stream gives them).
 */
export async function* chunkFileLines(file: string): AsyncGenerator<Buffer> {
  try {
    yield* linesOf(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new PermanentError(`chunk file ${file} is missing (${(error as Error).message})`, { code: 'NOT_FOUND', engine: 'mysql', cause: error });
  }
}

/** {@link chunkFileLines}, its file system errors as they are. */
async function* linesOf(file: string): AsyncGenerator<Buffer> {
  if (codecOf(file) === 'gzip') {
    yield* gunzippedLines(file);
    return;
  }
  const handle = await open(file, 'r');
  try {
    const whole = (await handle.stat()).size <= WHOLE_READ_BYTES ? await handle.readFile() : undefined;
    const frames = whole && wholeFrames(file, whole);
    if (frames) {
      for (const frame of frames) yield inflateFrame(file, frame);
    } else {
      yield* inflatedPieces(file, whole ? [whole] : readsOf(handle));
    }
  } finally {
    await handle.close();
  }
}

/** The bytes of `handle`'s file from its start, {@link PIECE_BYTES} at a time, in one buffer reused for each read. */
async function* readsOf(handle: FileHandle): AsyncGenerator<Buffer> {
  const input = Buffer.allocUnsafe(PIECE_BYTES);
  for (let position = 0; ;) {
    const { bytesRead } = await handle.read(input, 0, PIECE_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield input.subarray(0, bytesRead);
  }
}

/** The lines of the gzip chunk file `file` (older backups'), as its inflating stream gives them. */
async function* gunzippedLines(file: string): AsyncGenerator<Buffer> {
  const inflate = createGunzip({ chunkSize: 256 * 1024 });
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  source.on('error', (error) => inflate.destroy(error));
  source.pipe(inflate);
  try {
    for await (const chunk of inflate) yield chunk as Buffer;
  } finally {
    source.destroy();
  }
}

/** The frames of `data`, the whole zstd chunk file `file`, when none inflates past {@link WHOLE_FRAME_BYTES}; else undefined. */
function wholeFrames(file: string, data: Buffer): Buffer[] | undefined {
  const { findFrameCompressedSize, getFrameContentSize } = zstdBinding();
  const frames: Buffer[] = [];
  try {
    for (let at = 0; at < data.length;) {
      const frame = data.subarray(at, at + findFrameCompressedSize(data.subarray(at)));
      const size = getFrameContentSize(frame);
      if (size === null || size > WHOLE_FRAME_BYTES) return undefined;
      frames.push(frame);
      at += frame.length;
    }
  } catch (error) {
    throw damagedChunk(file, error);
  }
  return frames;
}

/** How much of a big zstd chunk file is read at once, and the most of its lines {@link inflatedPieces} gives at once. */
const PIECE_BYTES = 1 << 20;

/**
 * The lines of the zstd chunk file `file`, inflated from `reads` (its bytes in order; each read is
 * used up before the next is asked for) into pieces of {@link PIECE_BYTES} (the last one shorter),
 * each frame's checksum checked. No stream between:
 * an inflating stream's 128 KiB outputs, joined again by the reader, cost ~0.2 s of the main
 * thread on a restore of 400 MB of lines.
 * @throws PermanentError `BACKUP_CORRUPT` when it is not whole zstd (a bad frame, or cut short)
 */
async function* inflatedPieces(file: string, reads: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
  const dctx = new (zstdBinding().DCtx)();
  let piece = Buffer.allocUnsafe(PIECE_BYTES);
  let filled = 0;
  let inFrame = false;
  for await (const read of reads) {
    let rest = read;
    for (;;) {
      let result: [number, number, number];
      try {
        result = dctx.decompressStream(piece.subarray(filled), rest);
      } catch (error) {
        throw damagedChunk(file, error);
      }
      const [left, produced, consumed] = result;
      filled += produced;
      rest = rest.subarray(consumed);
      inFrame = left !== 0;
      if (filled === piece.length) {
        yield piece;
        piece = Buffer.allocUnsafe(PIECE_BYTES);
        filled = 0;
      } else if (rest.length === 0) {
        break; // all of this read inflated, and all of that given out (the piece is not full)
      }
    }
  }
  if (inFrame) throw damagedChunk(file, new Error('it ends inside a frame'));
  if (filled > 0) yield piece.subarray(0, filled);
}

/** One zstd frame of chunk file `file` inflated, its checksum checked. */
function inflateFrame(file: string, frame: Buffer): Buffer {
  try {
    return zstd().decompress(frame);
  } catch (error) {
    throw damagedChunk(file, error);
  }
}

function damagedChunk(file: string, error: unknown): PermanentError {
  return new PermanentError(`chunk file ${file} is not whole zstd (${(error as Error).message})`, { code: 'BACKUP_CORRUPT', engine: 'mysql', cause: error });
}

/** A frame of `lines` as new chunks hold them. */
export function compressLines(lines: Uint8Array): Buffer {
  return zstd().compress(lines, ZSTD_CHUNK_FRAME);
}

let empty: Buffer | undefined;

/** A chunk without rows: one empty frame (still a valid file). */
export function emptyChunk(): Buffer {
  empty ??= compressLines(new Uint8Array(0));
  return empty;
}

/** Whether chunk `name` was read back as it was written (encode-pool.ts): every chunk of the current codec was, none of gzip's. */
export function readBackWhenWritten(name: string): boolean {
  return name.endsWith(chunkSuffix(CHUNK_CODEC));
}

/**
 * Source text defining, in an encoder thread, `compressLinesInto(lines, into)` and
 * `inflateFrameInto(frame, into)`: the frame of `lines` (as {@link compressLines} makes it), or the
 * lines of `frame`, written at the start of buffer `into` (which must hold them; a frame's most is
 * `zstdBound(lines.length)`) and returned as a view of it — each thread's own zstd contexts, made
 * once. Evaluated there, so the addon is loaded by its resolved path (an evaluated thread resolves
 * packages from the working directory, not from this file), and on first use, so a thread that
 * cannot load it answers each batch with the error instead of dying at its start.
 */
export function codecSource(): string {
  return `let zstdBindingLoaded;
let compressing;
let inflating;
const zstdBinding = () => (zstdBindingLoaded ??= (require(${JSON.stringify(require.resolve('zstd-napi'))}), require(${JSON.stringify(require.resolve('zstd-napi/binding'))})));
const zstdBound = (size) => zstdBinding().compressBound(size);
const compressLinesInto = (lines, into) => {
  if (!compressing) {
    const { CCtx, CParameter } = zstdBinding();
    compressing = new CCtx();
    for (const [name, value] of Object.entries(${JSON.stringify(ZSTD_CHUNK_FRAME)})) compressing.setParameter(CParameter[name], Number(value));
  }
  return into.subarray(0, compressing.compress2(into, lines));
};
const inflateFrameInto = (frame, into) => {
  inflating ??= new (zstdBinding().DCtx)();
  return into.subarray(0, inflating.decompress(into, frame));
};`;
}

/** Loads the zstd addon in this thread, or fails saying why (`ZSTD_UNAVAILABLE`): before threads that need it start. */
export function assertZstdLoads(): void {
  zstd();
}
