/**
 * The spool: a host-local directory where a snapshot's artifacts wait between `createSnapshot` and
 * `upload` (unless the driver streams them straight to the store: artifact-sink.ts). Writing an artifact hashes it on the way to disk, so its sha256 is known without a
 * second read.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hashLocalFile } from '../io/hash-threads';
import { HashingStream } from '../io/hashing-stream';
import { PermanentError } from '../errors';
import { resolveInside } from '../io/resolve-inside';
import { keyProblem } from '../store/keys';
import { sha256Hex, writeWholeFile } from '../io/whole-file';
import { removeWrittenFile } from '../io/written-file';
import { toReadable } from '../store/transfer';
import type { ArtifactRef } from './types';

/**
 * Refuses an artifact name that is not a safe relative path, as a manifest must hold it
 * (store/keys.ts): empty, absolute, climbing out of its directory, with empty or `.` segments, a
 * backslash or a control character (PermanentError `INVALID_PATH`). A driver learns so when it
 * names the artifact, not when a manifest holding it is read as damaged.
 */
export function assertArtifactName(name: string): void {
  const problem = keyProblem(name);
  if (problem) throw new PermanentError(`artifact name ${JSON.stringify(name)} is not a safe relative path: ${problem}`, { code: 'INVALID_PATH' });
}

/**
 * Streams `source` into `spoolDir/name` (via a temporary file, renamed when complete) and returns
 * its size and sha256. Extra transforms (e.g. an engine's own checksum check) run before the hash.
 * Bytes already whole (a Buffer) with no transforms are written in one call.
 */
export async function writeArtifact(spoolDir: string, name: string, source: Readable | Buffer, ...transforms: Transform[]): Promise<ArtifactRef> {
  assertArtifactName(name);
  const target = resolveInside(spoolDir, name);
  await mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  if (Buffer.isBuffer(source) && transforms.length === 0) {
    await writeWholeFile(target, partial, source);
    return { name, size: source.length, sha256: sha256Hex(source) };
  }
  const hasher = new HashingStream();
  const writer = createWriteStream(partial, { highWaterMark: 1 << 20 });
  try {
    await pipeline([toReadable(source), ...transforms, hasher, writer]);
  } catch (error) {
    await removeWrittenFile(writer, partial);
    throw error;
  }
  await rename(partial, target);
  return { name, size: hasher.bytes, sha256: hasher.digest() };
}

/** Size and sha256 of everything `source` yields. */
export async function hashStream(source: Readable): Promise<{ size: number; sha256: string }> {
  const hasher = new HashingStream();
  await pipeline(source, hasher, async function drain(hashed: AsyncIterable<Buffer>) {
    for await (const _chunk of hashed) { /* hashed in passing */ }
  });
  return { size: hasher.bytes, sha256: hasher.digest() };
}

/** Hashes a file in place (core/io/hash-threads.ts). */
export function hashFile(filePath: string): Promise<{ size: number; sha256: string }> {
  return hashLocalFile(filePath);
}
