/**
 * Resumable upload of a local file to S3, with our own multipart protocol driver:
 * CreateMultipartUpload, UploadPart with `concurrency` parts in flight, CompleteMultipartUpload.
 * With checksums (the store's default), each part carries the CRC32 of the bytes read and hashed,
 * which S3 verifies on receipt, and the object's checksum S3 reports at the end is compared with
 * the one those parts make: equal, it is the result's `checksum` (what the object's head reports
 * while it holds those bytes).
 *
 * After every acknowledged part the checkpoint file records `{ bucket, key, uploadId, partSize,
 * fileSize, fileMtimeMs, parts }`. A restarted upload with the same checkpoint (same file size and
 * mtime) re-reads and hashes the acknowledged parts but does not send them again; it never asks the
 * server (ListParts) what it has. The whole file is hashed in order, so `expectedSha256` is checked
 * before CompleteMultipartUpload: on mismatch nothing is committed. Memory is bounded by
 * (concurrency + 1) × partSize, whatever the file size: part buffers are pooled and reused.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand,
  UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import { PermanentError, TransientError, type ClassifiedError } from '../errors';
import { objectChecksum, partChecksum } from '../io/part-checksums';
import type { PutFileOptions, PutResult } from './blob-store';
import { CheckpointWriter, readCheckpoint, removeCheckpoint } from './checkpoint';
import { createRateLimiter, throttle, type TokenBucket } from './rate-limiter';
import { checksumMismatch, statSource } from './transfer';

/** Default part size: 8 MiB. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** S3's smallest allowed part (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part count. */
export const MAX_PARTS = 10_000;
/** Default parts in flight. */
export const DEFAULT_CONCURRENCY = 4;
const PART_ATTEMPTS = 3;

const PartSchema = z.object({ PartNumber: z.number().int().positive(), ETag: z.string(), ChecksumCRC32: z.string().optional() });
const S3CheckpointSchema = z.object({
  bucket: z.string(),
  /** The upload was created with CRC32 checksums: each part names its own. */
  checksumAlgorithm: z.literal('CRC32').optional(),
  key: z.string(),
  uploadId: z.string(),
  partSize: z.number().int().positive(),
  fileSize: z.number().int().nonnegative(),
  fileMtimeMs: z.number(),
  parts: z.array(PartSchema),
});

/** What an S3 upload checkpoint holds. */
export type S3Checkpoint = z.infer<typeof S3CheckpointSchema>;

/** The store-side facts an upload needs. */
export interface S3UploadTarget {
  client: S3Client;
  bucket: string;
  /** Full object key (store prefix included). */
  objectKey: string;
  /** Store-relative key, for results and messages. */
  key: string;
  /** Maps SDK errors to ours. */
  mapError: (error: unknown) => ClassifiedError;
  /** Send CRC32 checksums for S3 to verify (S3StoreOptions.checksums). */
  checksums: boolean;
}

/** Part size for a file: the requested size, at least 5 MiB, raised so the file needs ≤ 10 000 parts. */
export function choosePartSize(fileSize: number, requested = DEFAULT_PART_SIZE): number {
  return Math.max(requested, MIN_PART_SIZE, Math.ceil(fileSize / MAX_PARTS));
}

/** Uploads `filePath` to `target`; see the module comment. */
export async function uploadFileResumable(target: S3UploadTarget, filePath: string, options: PutFileOptions): Promise<PutResult> {
  const info = await statSource(filePath);
  const saved = await readCheckpoint(options.checkpointPath, S3CheckpointSchema);
  const matches = saved !== undefined && saved.bucket === target.bucket && saved.key === target.objectKey
    && saved.fileSize === info.size && saved.fileMtimeMs === info.mtimeMs;
  if (saved && !matches) await abortQuietly(target.client, saved.bucket, saved.key, saved.uploadId);

  const partSize = matches ? saved.partSize : choosePartSize(info.size, options.partSize);
  if (info.size <= partSize) {
    const result = await putSmallFile(target, filePath, info.size, options);
    await removeCheckpoint(options.checkpointPath);
    return result;
  }
  const file = { path: filePath, size: info.size, mtimeMs: info.mtimeMs };
  if (matches) {
    try {
      return await runMultipart(target, file, saved, options);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'NO_SUCH_UPLOAD') throw error;
      await removeCheckpoint(options.checkpointPath);
    }
  }
  const fresh = await startMultipart(target, file, partSize, options);
  return runMultipart(target, file, fresh, options);
}

interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Creates the multipart upload and writes its first checkpoint. */
async function startMultipart(target: S3UploadTarget, file: SourceFile, partSize: number, options: PutFileOptions): Promise<S3Checkpoint> {
  const created = await target.client.send(new CreateMultipartUploadCommand({
    Bucket: target.bucket,
    Key: target.objectKey,
    ContentType: options.contentType,
    Metadata: options.expectedSha256 ? { sha256: options.expectedSha256 } : undefined,
    ...(checksummed(target) ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
  })).catch(function mapCreateError(error: unknown) {
    throw target.mapError(error);
  });
  if (!created.UploadId) {
    throw new PermanentError(`S3 returned no UploadId for s3://${target.bucket}/${target.objectKey}`, { code: 'S3_ERROR' });
  }
  const checkpoint: S3Checkpoint = {
    bucket: target.bucket,
    ...(checksummed(target) ? { checksumAlgorithm: 'CRC32' as const } : {}),
    key: target.objectKey,
    uploadId: created.UploadId,
    partSize,
    fileSize: file.size,
    fileMtimeMs: file.mtimeMs,
    parts: [],
  };
  await new CheckpointWriter(options.checkpointPath).save(checkpoint);
  return checkpoint;
}

/** Sends the parts the checkpoint lacks, verifies the hash, completes the upload. */
async function runMultipart(target: S3UploadTarget, file: SourceFile, checkpoint: S3Checkpoint, options: PutFileOptions): Promise<PutResult> {
  const acked = new Map(checkpoint.parts.map(({ PartNumber, ...sent }) => [PartNumber, sent]));
  const partCount = Math.ceil(file.size / checkpoint.partSize);
  const writer = new CheckpointWriter(options.checkpointPath);
  const bucket = createRateLimiter(options.rateLimit);
  const hash = createHash('sha256');
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const inFlight = new Set<Promise<void>>();
  const pool = new BufferPool(checkpoint.partSize);
  let failure: unknown;
  let resumedBytes = 0;
  let movedBytes = 0;

  async function acknowledge(partNumber: number, sent: SentPart, size: number): Promise<void> {
    acked.set(partNumber, sent);
    checkpoint.parts = [...acked].sort((a, b) => a[0] - b[0]).map(([PartNumber, part]) => ({ PartNumber, ...part }));
    await writer.save(checkpoint);
    movedBytes += size;
    options.onProgress?.(movedBytes, file.size);
  }

  const handle = await open(file.path, 'r');
  try {
    for (let partNumber = 1; partNumber <= partCount && failure === undefined; partNumber += 1) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (failure !== undefined) break;
      const buffer = pool.acquire();
      const data = await readPart(handle, file, checkpoint.partSize, partNumber, hash, buffer);
      // A part S3 acknowledged is sent again only when its bytes no longer have the CRC32 it was sent with.
      if (acked.has(partNumber) && checkpoint.checksumAlgorithm && acked.get(partNumber)!.ChecksumCRC32 !== partChecksum(data)) acked.delete(partNumber);
      if (acked.has(partNumber)) {
        pool.release(buffer);
        resumedBytes += data.length;
        movedBytes += data.length;
        options.onProgress?.(movedBytes, file.size);
        continue;
      }
      const sending: Promise<void> = sendPart(target, checkpoint, partNumber, data, bucket)
        .then((sent) => acknowledge(partNumber, sent, data.length))
        .catch(function recordFailure(error: unknown) {
          failure ??= error;
        })
        .finally(() => {
          pool.release(buffer);
          inFlight.delete(sending);
        });
      inFlight.add(sending);
    }
  } finally {
    await Promise.all(inFlight);
    await handle.close();
    await writer.flush();
  }
  if (failure !== undefined) throw target.mapError(failure);

  const sha256 = hash.digest('hex');
  if (options.expectedSha256 && options.expectedSha256 !== sha256) {
    await abortQuietly(target.client, target.bucket, target.objectKey, checkpoint.uploadId);
    await removeCheckpoint(options.checkpointPath);
    throw checksumMismatch(`file ${file.path} (for ${target.key})`, options.expectedSha256, sha256);
  }
  const completed = await target.client.send(new CompleteMultipartUploadCommand({
    Bucket: target.bucket,
    Key: target.objectKey,
    UploadId: checkpoint.uploadId,
    MultipartUpload: { Parts: checkpoint.parts },
  })).catch(function mapCompleteError(error: unknown) {
    throw target.mapError(error);
  });
  await removeCheckpoint(options.checkpointPath);
  const parts = checkpoint.parts.map((part) => part.ChecksumCRC32);
  const ours = checkpoint.checksumAlgorithm && parts.every((part) => part !== undefined) ? objectChecksum(parts as string[], false) : undefined;
  return { key: target.key, size: file.size, sha256, resumedBytes, ...keptChecksum(completed.ChecksumCRC32, ours) };
}

/** What S3 acknowledged of a part: its ETag, and the CRC32 it verified. */
type SentPart = Omit<S3Checkpoint['parts'][number], 'PartNumber'>;

/** True when this upload sends checksums: asked, and zlib can compute them. */
function checksummed(target: S3UploadTarget): boolean {
  return target.checksums && partChecksum(Buffer.alloc(0)) !== undefined;
}

/** A put's `checksum`: S3's, when it is the one our bytes make (else nothing to compare with later). */
export function keptChecksum(reported: string | undefined, ours: string | undefined): Pick<PutResult, 'checksum'> {
  return reported !== undefined && reported === ours ? { checksum: `crc32:${reported}` } : {};
}

/**
 * Part-sized buffers, reused: a part's buffer goes back to the pool once S3 has acknowledged it, so
 * an upload allocates at most (concurrency + 1) of them however large the file is.
 */
class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly size: number) {}

  acquire(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.size);
  }

  release(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

/** Reads part `partNumber` (1-based) into `into` (or a fresh buffer) and feeds it to `hash`; returns the filled view. */
async function readPart(
  handle: FileHandle, file: SourceFile, partSize: number, partNumber: number, hash: Hash, into?: Buffer,
): Promise<Buffer> {
  const start = (partNumber - 1) * partSize;
  const length = Math.min(partSize, file.size - start);
  const data = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(data, filled, length - filled, start + filled);
    if (bytesRead === 0) {
      throw new PermanentError(`file ${file.path} shrank while it was being uploaded (expected ${file.size} bytes)`, { code: 'SOURCE_CHANGED' });
    }
    filled += bytesRead;
  }
  hash.update(data);
  return data;
}

/** Uploads one part (throttled), retrying transient failures with a fresh body; returns its ETag and checksum. */
async function sendPart(target: S3UploadTarget, checkpoint: S3Checkpoint, partNumber: number, data: Buffer, bucket: TokenBucket | undefined): Promise<SentPart> {
  const crc = checkpoint.checksumAlgorithm ? partChecksum(data) : undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await target.client.send(new UploadPartCommand({
        Bucket: target.bucket,
        Key: target.objectKey,
        UploadId: checkpoint.uploadId,
        PartNumber: partNumber,
        ContentLength: data.length,
        ...(crc ? { ChecksumCRC32: crc } : {}),
        Body: bucket ? Readable.from([data]).pipe(throttle(bucket)) : data,
      }));
      if (!result.ETag) throw new PermanentError(`S3 returned no ETag for part ${partNumber} of ${target.key}`, { code: 'S3_ERROR' });
      return { ETag: result.ETag, ...(crc ? { ChecksumCRC32: crc } : {}) };
    } catch (error) {
      const mapped = target.mapError(error);
      if (!(mapped instanceof TransientError) || attempt >= PART_ATTEMPTS) throw mapped;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}

/** Files that fit in one part: hashed and verified first, then one PutObject. */
async function putSmallFile(target: S3UploadTarget, filePath: string, size: number, options: PutFileOptions): Promise<PutResult> {
  const handle = await open(filePath, 'r');
  const hash = createHash('sha256');
  let data: Buffer;
  try {
    data = await readPart(handle, { path: filePath, size, mtimeMs: 0 }, Math.max(size, 1), 1, hash);
  } finally {
    await handle.close();
  }
  const sha256 = hash.digest('hex');
  if (options.expectedSha256 && options.expectedSha256 !== sha256) {
    throw checksumMismatch(`file ${filePath} (for ${target.key})`, options.expectedSha256, sha256);
  }
  const bucket = createRateLimiter(options.rateLimit);
  const crc = checksummed(target) ? partChecksum(data) : undefined;
  options.onProgress?.(0, size);
  const put = await target.client.send(new PutObjectCommand({
    Bucket: target.bucket,
    Key: target.objectKey,
    ContentType: options.contentType,
    ContentLength: size,
    Metadata: { sha256 },
    ...(crc ? { ChecksumCRC32: crc } : {}),
    Body: bucket && size > 0 ? Readable.from([data]).pipe(throttle(bucket)) : data,
  })).catch(function mapPutError(error: unknown) {
    throw target.mapError(error);
  });
  options.onProgress?.(size, size);
  return { key: target.key, size, sha256, resumedBytes: 0, ...keptChecksum(put.ChecksumCRC32, crc) };
}

/** Best-effort AbortMultipartUpload; some S3-compatible servers (s3rver) do not implement it. */
async function abortQuietly(client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(function ignore() {
    /* leftover parts are reclaimed by the bucket's lifecycle rule */
  });
}
