/**
 * Reads the xbstream format (mariabackup's `mbstream`, Percona's `xbstream`) without extracting
 * it: every chunk's CRC-32 is checked, each file's chunks must follow each other without gaps and
 * end with its EOF chunk, and a few small files (the backup's metadata) can be captured on the
 * way. Memory stays flat (payloads are hashed as they pass), nothing is written to disk.
 *
 * The verifier is a pass-through: put it in the pipeline that writes the stream (the backup tool's
 * stdout on its way to the spool or the store) and the stream is checked in the same pass; or
 * read a stored stream through {@link verifyXbstream}.
 *
 * Format (little-endian): `XBSTCK01` · flags (1) · type (1: `P` payload, `E` end of file) · path
 * length (4) · path · then, for payloads: length (8) · offset in the file (8) · CRC-32 of the
 * payload (4) · payload. A chunk of unknown type is an error unless its flags mark it ignorable.
 */
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';

const MAGIC = Buffer.from('XBSTCK01', 'latin1');
const FLAG_IGNORABLE = 0x01;
const TYPE_PAYLOAD = 0x50; // 'P'
const TYPE_EOF = 0x45; // 'E'
const MAX_PATH = 512; // FN_REFLEN
const MAX_CAPTURE = 1024 * 1024;

/** What a verified stream holds. */
export interface XbstreamSummary {
  /** Bytes of stream read. */
  bytes: number;
  chunks: number;
  /** Files in the stream (each closed by its EOF chunk). */
  files: number;
  /** Payload bytes, i.e. the size of the extracted backup. */
  payloadBytes: number;
  /** Contents of the captured files found in the stream. */
  captured: Record<string, Buffer>;
}

/** A malformed or damaged stream, with the byte offset where it was noticed. */
export class XbstreamError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset 0x${offset.toString(16)}`);
    this.name = 'XbstreamError';
  }
}

type State = 'header' | 'path' | 'meta' | 'payload';

/**
 * A pass-through Transform that verifies the xbstream flowing through it; `summary()` after
 * `finish`. Damage is emitted as an {@link XbstreamError} as soon as it is seen (a bad CRC, a
 * missing chunk) or at the end (a stream that stops inside a chunk or before every file's
 * end-of-file chunk), which fails the pipeline it is in.
 *
 * Its output must be consumed (like any Transform); to only verify, use {@link verifyXbstream}.
 */
export class XbstreamVerifier extends Transform {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private state: State = 'header';
  private offset = 0;
  private chunkStart = 0;
  private flags = 0;
  private type = 0;
  private pathLength = 0;
  private path = '';
  private remaining = 0;
  private chunkLength = 0;
  private expectedCrc = 0;
  private crc = 0;
  private capture?: Buffer[];
  private readonly sizes = new Map<string, number>();
  private readonly openFiles = new Set<string>();
  private readonly closedFiles = new Set<string>();
  private readonly captured: Record<string, Buffer> = {};
  private chunks = 0;
  private payloadBytes = 0;

  /** @param captureFiles paths (as in the stream, e.g. `xtrabackup_checkpoints`) whose contents to keep (up to 1 MiB each). */
  constructor(private readonly captureFiles: ReadonlySet<string> = new Set()) {
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback(null, chunk);
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state !== 'header' || this.pendingBytes > 0) {
      callback(new XbstreamError(`the stream ends inside a chunk (${this.state} of ${this.path || 'a chunk'})`, this.offset + this.pendingBytes));
      return;
    }
    if (this.openFiles.size > 0) {
      callback(new XbstreamError(`the stream ends before ${this.openFiles.size} file(s) were closed: ${[...this.openFiles].slice(0, 5).join(', ')}`, this.offset));
      return;
    }
    callback();
  }

  /** The stream's contents; valid after `finish`. */
  summary(): XbstreamSummary {
    return { bytes: this.offset, chunks: this.chunks, files: this.closedFiles.size, payloadBytes: this.payloadBytes, captured: this.captured };
  }

  private consume(input: Buffer): void {
    let data = input;
    while (data.length > 0) {
      if (this.state === 'payload') {
        const take = Math.min(this.remaining, data.length);
        const piece = data.subarray(0, take);
        this.crc = crc32(piece, this.crc);
        this.capture?.push(Buffer.from(piece));
        this.remaining -= take;
        this.offset += take;
        data = data.subarray(take);
        if (this.remaining === 0) this.endPayload();
        continue;
      }
      const need = this.state === 'header' ? 14 : this.state === 'path' ? this.pathLength : 20;
      if (this.pendingBytes + data.length < need) {
        this.pending.push(data);
        this.pendingBytes += data.length;
        return;
      }
      const fromData = need - this.pendingBytes;
      const field = this.pendingBytes === 0 ? data.subarray(0, need) : Buffer.concat([...this.pending, data.subarray(0, fromData)]);
      this.pending.length = 0;
      this.pendingBytes = 0;
      data = data.subarray(fromData);
      this.field(field);
    }
  }

  private field(field: Buffer): void {
    switch (this.state) {
      case 'header': {
        this.chunkStart = this.offset;
        if (!field.subarray(0, 8).equals(MAGIC)) throw new XbstreamError('wrong chunk magic (not an xbstream, or damaged)', this.offset);
        this.flags = field[8];
        this.type = field[9];
        if (this.type !== TYPE_PAYLOAD && this.type !== TYPE_EOF && !(this.flags & FLAG_IGNORABLE)) {
          throw new XbstreamError(`unknown chunk type 0x${this.type.toString(16)}`, this.offset + 9);
        }
        this.pathLength = field.readUInt32LE(10);
        if (this.pathLength >= MAX_PATH) throw new XbstreamError(`invalid path length ${this.pathLength}`, this.offset + 10);
        this.offset += 14;
        this.state = 'path';
        return;
      }
      case 'path': {
        this.path = field.toString('utf8');
        this.offset += field.length;
        if (this.type === TYPE_EOF) {
          this.chunks += 1;
          this.openFiles.delete(this.path);
          this.closedFiles.add(this.path);
          this.state = 'header';
          return;
        }
        this.state = 'meta';
        return;
      }
      case 'meta': {
        const length = field.readBigUInt64LE(0);
        const fileOffset = field.readBigUInt64LE(8);
        if (length > BigInt(Number.MAX_SAFE_INTEGER) || fileOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new XbstreamError(`chunk length or offset too large for ${this.path}`, this.offset);
        }
        this.remaining = Number(length);
        this.chunkLength = this.remaining;
        this.expectedCrc = field.readUInt32LE(16);
        this.crc = 0;
        this.offset += 20;
        if (this.type === TYPE_PAYLOAD) {
          if (this.closedFiles.has(this.path)) throw new XbstreamError(`data for ${this.path} after its end-of-file chunk`, this.chunkStart);
          const size = this.sizes.get(this.path) ?? 0;
          if (Number(fileOffset) !== size) {
            throw new XbstreamError(`chunk of ${this.path} at file offset ${fileOffset}, expected ${size} (a chunk is missing)`, this.chunkStart);
          }
          this.sizes.set(this.path, size + this.remaining);
          this.openFiles.add(this.path);
          this.capture = this.captureFiles.has(this.path) && size + this.remaining <= MAX_CAPTURE ? [] : undefined;
        } else {
          this.capture = undefined;
        }
        this.state = 'payload';
        if (this.remaining === 0) this.endPayload();
        return;
      }
      default:
        throw new XbstreamError(`internal state ${this.state}`, this.offset);
    }
  }

  private endPayload(): void {
    if (this.crc !== this.expectedCrc) {
      throw new XbstreamError(
        `invalid checksum in a chunk of ${this.path}: expected 0x${this.expectedCrc.toString(16)}, computed 0x${this.crc.toString(16)}`,
        this.chunkStart,
      );
    }
    if (this.type === TYPE_PAYLOAD) {
      this.payloadBytes += this.chunkLength;
      if (this.capture) {
        const previous = this.captured[this.path];
        this.captured[this.path] = Buffer.concat(previous ? [previous, ...this.capture] : this.capture);
      }
    }
    this.capture = undefined;
    this.chunks += 1;
    this.state = 'header';
  }
}

/** Discards what is written to it (the end of a verify-only pipeline). */
function discard(): Writable {
  return new Writable({ highWaterMark: 4 * 1024 * 1024, write: (_chunk, _encoding, callback) => callback() });
}

/**
 * Reads `source` to its end through an {@link XbstreamVerifier} and returns what the stream holds.
 * @throws XbstreamError when the stream is damaged; whatever `source` fails with (e.g. a sha256
 *   mismatch from a verifying reader); an AbortError when `signal` aborts.
 */
export async function verifyXbstream(source: Readable, captureFiles: ReadonlySet<string> = new Set(), signal?: AbortSignal): Promise<XbstreamSummary> {
  const verifier = new XbstreamVerifier(captureFiles);
  await pipeline(source, verifier, discard(), { signal });
  return verifier.summary();
}
