/**
 * Stream plumbing shared by the stores: turning bodies into streams, progress reporting, and the
 * verified, atomic download of a stream into a local file.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, pipeline as pipelineCallback, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PermanentError, TransientError } from '../errors';
import { HashingStream } from '../io/hashing-stream';
import { sha256Hex, writeWholeFile } from '../io/whole-file';
import { removeWrittenFile } from '../io/written-file';
import type { PutResult, TransferProgress } from './blob-store';
import { createRateLimiter, throttleStages, type RateLimit } from './rate-limiter';

/** Marker in the names of temporary files the stores write before an atomic rename. */
export const TEMP_MARKER = '.dbbackup-tmp-';

/** A unique temporary path next to `target` (same directory, so a rename is atomic). */
export function tempPathFor(target: string): string {
  return `${target}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Stats of a file about to be uploaded; PermanentError `SOURCE_NOT_FOUND` when it is missing or not a file. */
export async function statSource(filePath: string): Promise<Stats> {
  const info = await stat(filePath).catch(function missing() {
    return undefined;
  });
  if (!info?.isFile()) {
    throw new PermanentError(`cannot upload ${filePath}: no such file`, { code: 'SOURCE_NOT_FOUND' });
  }
  return info;
}

/** Any put body as a stream. */
export function toReadable(body: Readable | Buffer | string): Readable {
  if (typeof body === 'string') return Readable.from([Buffer.from(body, 'utf8')]);
  if (Buffer.isBuffer(body)) return Readable.from([body]);
  return body;
}

/** A pass-through that reports `startAt + bytes seen` after every chunk. */
export function progressTap(onProgress: TransferProgress, total: number | undefined, startAt = 0): Transform {
  let seen = startAt;
  return new Transform({
    transform: function reportProgress(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      seen += chunk.length;
      onProgress(seen, total);
      callback(null, chunk);
    },
  });
}

/** `[progressTap(...)]`, or `[]` when nobody listens. */
export function progressStages(onProgress: TransferProgress | undefined, total: number | undefined, startAt = 0): Transform[] {
  return onProgress ? [progressTap(onProgress, total, startAt)] : [];
}

/**
 * `source` piped through `stages`; returns `source` itself when there are none. An error anywhere
 * destroys the returned stream with that error, and destroying it tears down the whole chain.
 */
export function chain(source: Readable, stages: Transform[]): Readable {
  if (stages.length === 0) return source;
  return pipelineCallback([source, ...stages], function ignoreChainResult() {
    /* errors surface on the returned stream */
  }) as unknown as Readable;
}

/** The PermanentError `CHECKSUM_MISMATCH` every store throws. */
export function checksumMismatch(what: string, expected: string, actual: string): PermanentError {
  return new PermanentError(`${what} does not match its checksum (expected sha256 ${expected}, got ${actual})`, {
    code: 'CHECKSUM_MISMATCH',
  });
}

export interface StreamToFileOptions {
  /** Names the object in error messages. */
  key: string;
  expectedSha256?: string;
  rateLimit?: RateLimit;
  onProgress?: TransferProgress;
  /** The source's size, when known: for progress reports, and a source of another size fails (`SHORT_READ`, transient). */
  totalBytes?: number;
}

/**
 * Streams `source` (throttled, hashed) into a temporary file next to `filePath`, verifies the
 * expected sha256, then renames it into place. On any failure the temporary file is removed and
 * `filePath` is left untouched.
 */
export async function streamToFile(source: Readable, filePath: string, options: StreamToFileOptions): Promise<PutResult> {
  await mkdir(path.dirname(filePath), { recursive: true });
  const temp = tempPathFor(filePath);
  const hasher = new HashingStream();
  const writer = createWriteStream(temp);
  try {
    await pipeline([
      source,
      ...throttleStages(createRateLimiter(options.rateLimit)),
      hasher,
      ...progressStages(options.onProgress, options.totalBytes),
      writer,
    ]);
    if (options.totalBytes !== undefined && hasher.bytes !== options.totalBytes) {
      const got = hasher.bytes < options.totalBytes ? `ended after ${hasher.bytes} of its ${options.totalBytes} bytes` : `gave ${hasher.bytes} bytes where the store announced ${options.totalBytes}`;
      throw new TransientError(`object ${options.key} ${got}`, { code: 'SHORT_READ' });
    }
    const sha256 = hasher.digest();
    if (options.expectedSha256 && options.expectedSha256 !== sha256) {
      throw checksumMismatch(`object ${options.key}`, options.expectedSha256, sha256);
    }
    await rename(temp, filePath);
    return { key: options.key, size: hasher.bytes, sha256 };
  } catch (error) {
    await removeWrittenFile(writer, temp);
    throw error;
  }
}

/**
 * {@link streamToFile} for an object already read whole (a small one): throttled, hashed and
 * checked, written to a temporary file and renamed into place — no stream, a few calls in all.
 */
export async function bufferToFile(data: Buffer, filePath: string, options: StreamToFileOptions): Promise<PutResult> {
  await createRateLimiter(options.rateLimit)?.take(data.length);
  const sha256 = sha256Hex(data);
  if (options.expectedSha256 && options.expectedSha256 !== sha256) {
    throw checksumMismatch(`object ${options.key}`, options.expectedSha256, sha256);
  }
  await mkdir(path.dirname(filePath), { recursive: true });
  await writeWholeFile(filePath, tempPathFor(filePath), data);
  options.onProgress?.(data.length, options.totalBytes);
  return { key: options.key, size: data.length, sha256 };
}
