/**
 * The spool: a host-local directory where a snapshot's artifacts wait between `createSnapshot` and
 * `upload` (unless the driver streams them straight to the store: artifact-sink.ts). Writing an artifact hashes it on the way to disk, so its sha256 is known without a
 * second read.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PermanentError } from '../errors';
import type { ArtifactRef } from './types';

/** Refuses an artifact name that is empty, absolute or climbs out of its directory (PermanentError `INVALID_PATH`). */
export function assertArtifactName(name: string): void {
  resolveInside(path.resolve('/artifacts'), name);
}

/** Resolves `name` inside `dir`, refusing names that escape it. */
export function resolveInside(dir: string, name: string): string {
  const resolved = path.resolve(dir, name);
  const root = path.resolve(dir);
  if (name.length === 0 || path.isAbsolute(name) || !resolved.startsWith(root + path.sep)) {
    throw new PermanentError(`artifact name '${name}' escapes its directory`, { code: 'INVALID_PATH' });
  }
  return resolved;
}

/** A pass-through stream that counts bytes and hashes them. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Hex digest; call once, after the stream has finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Streams `source` into `spoolDir/name` (via a temporary file, renamed when complete) and returns
 * its size and sha256. Extra transforms (e.g. an engine's own checksum check) run before the hash.
 */
export async function writeArtifact(spoolDir: string, name: string, source: Readable, ...transforms: Transform[]): Promise<ArtifactRef> {
  const target = resolveInside(spoolDir, name);
  await mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  const hasher = new HashingStream();
  const writer = createWriteStream(partial, { highWaterMark: 1 << 20 });
  try {
    await pipeline([source, ...transforms, hasher, writer]);
  } catch (error) {
    await removeWrittenFile(writer, partial);
    throw error;
  }
  await rename(partial, target);
  return { name, size: hasher.bytes, sha256: hasher.digest() };
}

/**
 * Removes the file a failed write stream was writing. The file is opened asynchronously, so this
 * first waits until the stream has closed — removing it earlier could leave it to appear afterwards.
 */
export async function removeWrittenFile(writer: WriteStream, file: string): Promise<void> {
  if (!writer.closed) await once(writer, 'close').catch(() => undefined);
  await rm(file, { force: true });
}

/** Size and sha256 of everything `source` yields. */
export async function hashStream(source: Readable): Promise<{ size: number; sha256: string }> {
  const hasher = new HashingStream();
  await pipeline(source, hasher, async function drain(hashed: AsyncIterable<Buffer>) {
    for await (const _chunk of hashed) { /* hashed in passing */ }
  });
  return { size: hasher.bytes, sha256: hasher.digest() };
}

/** Hashes a file by streaming it. */
export function hashFile(filePath: string): Promise<{ size: number; sha256: string }> {
  return hashStream(createReadStream(filePath));
}
