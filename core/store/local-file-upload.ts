/**
 * Resumable copy of a local file into a {@link LocalDirectoryStore}. Bytes go to `<target>.partial`
 * (see {@link PARTIAL_SUFFIX}); every `partSize` bytes the partial file is synced and the checkpoint
 * records its length. A restarted copy with the same checkpoint (same file size and mtime) keeps
 * that many bytes and continues. Every attempt hashes the whole object as it will be: the bytes
 * kept, read back from the partial file, then the rest of the source as it is written. So the
 * expected sha256 is checked against what the store holds before the final rename, the only moment
 * the object becomes visible; kept bytes that are not the source's (damaged since they were
 * written) fail it, and the file is then copied again whole.
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { FLUSH_EVERY } from '../io/flush-behind';
import { OffThreadSha256 } from '../io/hash-threads';
import type { PutFileOptions, PutOptions, PutResult } from './blob-store';
import { CheckpointWriter, readCheckpoint, removeCheckpoint } from './checkpoint';
import { createRateLimiter, type TokenBucket } from './rate-limiter';
import { checksumMismatch, statSource, tempPathFor } from './transfer';

/** Suffix of the file an in-progress `putFile` writes to. */
export const PARTIAL_SUFFIX = '.dbbackup-partial';
/** Default bytes between checkpoints. */
export const LOCAL_DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const READ_BUFFER_BYTES = 1024 * 1024;

const LocalCheckpointSchema = z.object({
  kind: z.literal('local'),
  target: z.string(),
  fileSize: z.number(),
  fileMtimeMs: z.number(),
  partSize: z.number().int().positive(),
  /** Bytes of the source that are durably in the partial file. */
  bytesDone: z.number().int().nonnegative(),
});

/** What a local upload checkpoint holds. */
export type LocalCheckpoint = z.infer<typeof LocalCheckpointSchema>;

/** Copies `sourcePath` to `target` resumably (from its checkpoint unless `resume` is false); see the module comment. */
export async function copyFileResumable(key: string, sourcePath: string, target: string, options: PutFileOptions, resume = true): Promise<PutResult> {
  const source = await statSource(sourcePath);
  const partial = `${target}${PARTIAL_SUFFIX}`;
  const saved = resume ? await readCheckpoint(options.checkpointPath, LocalCheckpointSchema) : undefined;
  const resumeFrom = await usableResumePoint(saved, target, partial, source.size, source.mtimeMs);
  const checkpoint: LocalCheckpoint = {
    kind: 'local',
    target,
    fileSize: source.size,
    fileMtimeMs: source.mtimeMs,
    partSize: saved && resumeFrom > 0 ? saved.partSize : options.partSize ?? LOCAL_DEFAULT_PART_SIZE,
    bytesDone: resumeFrom,
  };
  const writer = new CheckpointWriter(options.checkpointPath);
  const input = await open(sourcePath, 'r');
  const output = await open(partial, resumeFrom > 0 ? 'r+' : 'w');
  let sha256: string;
  try {
    await output.truncate(resumeFrom);
    sha256 = await copyAndHash(input, output, checkpoint, options, (bytesDone) => writer.save({ ...checkpoint, bytesDone }));
    await output.datasync();
  } finally {
    await Promise.allSettled([input.close(), output.close()]);
    await writer.flush();
  }
  if (options.expectedSha256 && options.expectedSha256 !== sha256) {
    await Promise.all([rm(partial, { force: true }), removeCheckpoint(options.checkpointPath)]);
    if (resumeFrom > 0) return copyFileResumable(key, sourcePath, target, options, false); // the bytes kept were not the source's: copy it whole, once
    throw checksumMismatch(`file ${sourcePath} (for ${key})`, options.expectedSha256, sha256);
  }
  await rename(partial, target);
  await syncPath(path.dirname(target));
  await removeCheckpoint(options.checkpointPath);
  return { key, size: source.size, sha256, resumedBytes: resumeFrom };
}

/**
 * Copies `sourcePath` into the folder `folder` under the name of its sha256, in one read: the copy
 * goes to a temporary file there while it is hashed, and is renamed to `<folder>/<sha256>` when it
 * is whole and synced — unless a file of that name and size is there already (the same bytes: the
 * copy is dropped, `existed`). Not resumable (a retry copies again); nothing is left on failure.
 */
export async function copyFileAddressed(sourcePath: string, folder: string, options: PutOptions): Promise<{ size: number; sha256: string; existed: boolean }> {
  const source = await statSource(sourcePath);
  const temp = tempPathFor(path.join(folder, 'addressed'));
  const input = await open(sourcePath, 'r');
  let output: FileHandle | undefined;
  let sha256: string;
  try {
    output = await open(temp, 'w');
    sha256 = await copyAndHash(input, output, { fileSize: source.size, partSize: FLUSH_EVERY, bytesDone: 0 }, options);
    await output.datasync();
  } catch (error) {
    await Promise.allSettled([input.close(), output?.close()]);
    await rm(temp, { force: true });
    throw error;
  }
  await Promise.allSettled([input.close(), output.close()]);
  const file = path.join(folder, sha256);
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isFile() && existing.size === source.size) {
    await rm(temp, { force: true });
    return { size: source.size, sha256, existed: true };
  }
  await rename(temp, file);
  await syncPath(folder);
  return { size: source.size, sha256, existed: false };
}

/**
 * Creates `dir` and its missing parents durably: each directory created is fsynced into its
 * parent, so that a crash cannot lose the directory of an object already synced into it.
 */
export async function makeDirectoryDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let created = dir; ; created = path.dirname(created)) {
    await syncPath(path.dirname(created));
    if (created === first) return;
  }
}

/**
 * fsyncs the file or directory at `target`: a file's bytes, or a directory's entries (so that a
 * file just renamed into it is still there after a crash).
 */
export async function syncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** How many bytes of `partial` can be kept: the checkpoint's count if it describes this very copy. */
async function usableResumePoint(
  saved: LocalCheckpoint | undefined, target: string, partial: string, fileSize: number, fileMtimeMs: number,
): Promise<number> {
  if (!saved || saved.target !== target || saved.fileSize !== fileSize || saved.fileMtimeMs !== fileMtimeMs) return 0;
  const existing = await stat(partial).catch(() => undefined);
  if (!existing || existing.size < saved.bytesDone || saved.bytesDone > fileSize) return 0;
  return saved.bytesDone;
}

/**
 * Reads the whole object in order (the next read beside the current chunk's hash and write): the
 * `plan.bytesDone` bytes kept, from `output` itself, then the source's bytes beyond them, written
 * (throttled). It hashes everything it reads, so the hash is of what `output` holds. After every
 * `partSize` bytes an fdatasync starts beside the copy (one at a time), and `onDurable` learns the
 * bytes it made durable when it is done (a checkpoint records them). Returns the hex sha256.
 */
async function copyAndHash(
  input: FileHandle, output: FileHandle, plan: Pick<LocalCheckpoint, 'fileSize' | 'partSize' | 'bytesDone'>, options: PutOptions,
  onDurable?: (bytesDone: number) => Promise<void>,
): Promise<string> {
  const hash = new OffThreadSha256();
  const bucket = createRateLimiter(options.rateLimit);
  // Two buffers take turns: the next read runs while the current chunk is hashed and written.
  const buffers = [Buffer.allocUnsafeSlow(READ_BUFFER_BYTES), Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)];
  const { fileSize } = plan;
  const resumeFrom = plan.bytesDone;
  // A read ends where the bytes kept end, so that each chunk is all kept or all fresh.
  const readInto = (buffer: Buffer, at: number) => {
    if (at >= fileSize) return undefined;
    const [from, end] = at < resumeFrom ? [output, resumeFrom] : [input, fileSize];
    return from.read(buffer, 0, Math.min(buffer.length, end - at), at);
  };
  let position = 0;
  let sinceCheckpoint = 0;
  let turn = 0;
  let reading = readInto(buffers[turn], 0);
  let syncing: Promise<void> | undefined;
  let syncFailure: { error: unknown } | undefined;
  options.onProgress?.(resumeFrom, fileSize);
  try {
    while (reading) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) {
        throw new PermanentError(`file shrank while it was being uploaded (expected ${fileSize} bytes)`, { code: 'SOURCE_CHANGED' });
      }
      const chunk = buffers[turn].subarray(0, bytesRead);
      turn ^= 1;
      reading = readInto(buffers[turn], position + bytesRead);
      const hashed = hash.update(chunk); // in a hashing thread, beside the write
      const fresh = position >= resumeFrom ? chunk : undefined;
      position += bytesRead;
      if (!fresh) {
        await hashed;
        continue;
      }
      await Promise.all([writeThrottled(output, fresh, position - fresh.length, bucket), hashed]);
      sinceCheckpoint += fresh.length;
      options.onProgress?.(position, fileSize);
      if (syncFailure) throw syncFailure.error;
      if (sinceCheckpoint >= plan.partSize && position < fileSize && !syncing) {
        // The bytes so far go to disk while the copy goes on; the checkpoint records them once they are there.
        sinceCheckpoint = 0;
        const durable = position;
        syncing = output.datasync().then(() => onDurable?.(durable)).then(() => {
          syncing = undefined;
        }, (error: unknown) => {
          syncFailure ??= { error };
        });
      }
    }
    await syncing;
    if (syncFailure) throw syncFailure.error;
    return await hash.digest();
  } catch (error) {
    hash.discard();
    await Promise.all([reading?.catch(() => undefined), syncing]); // the read ahead and the sync end before the caller closes the file
    throw error;
  }
}

/** Writes `data` at `offset`, slice by slice as the rate limiter allows. */
async function writeThrottled(output: FileHandle, data: Buffer, offset: number, bucket: TokenBucket | undefined): Promise<void> {
  const step = bucket ? bucket.sliceBytes : data.length;
  for (let done = 0; done < data.length; done += step) {
    const slice = data.subarray(done, Math.min(data.length, done + step));
    await bucket?.take(slice.length);
    await writeFully(output, slice, offset + done);
  }
}

async function writeFully(output: FileHandle, data: Buffer, offset: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const result = await output.write(data, written, data.length - written, offset + written);
    written += result.bytesWritten;
  }
}
