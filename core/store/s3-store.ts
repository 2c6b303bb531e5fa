/**
 * A {@link BlobStore} on an S3 bucket (or an S3-compatible server), optionally under a key prefix.
 * Streams are hashed and throttled on the way; `putFile` is our own resumable multipart upload
 * (see s3-file-upload.ts); `put` uses lib-storage's `Upload`, which handles bodies of unknown length.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  type GetObjectCommandOutput, type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { HashingStream } from '../io/hashing-stream';
import { PartChecksums } from '../io/part-checksums';
import { PermanentError, type ClassifiedError } from '../errors';
import type {
  BlobStore, GetFileOptions, GetOptions, HeadOptions, ObjectInfo, PutFileOptions, PutOptions, PutResult,
} from './blob-store';
import { assertFolderPrefix, assertSafeKey, assertSafePrefix, byKey } from './keys';
import { createRateLimiter, throttleStages } from './rate-limiter';
import { createS3Client, describeEndpoint, type S3ClientOptions } from './s3-client';
import { mapS3Error } from './s3-errors';
import { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, keptChecksum, uploadFileResumable } from './s3-file-upload';
import { chain, progressStages, streamToFile, toReadable } from './transfer';

/** Where an S3 store lives and how to reach it. */
export interface S3StoreOptions extends S3ClientOptions {
  bucket: string;
  /** Key prefix inside the bucket (no leading or trailing slash needed). */
  prefix?: string;
  /** Use this client instead of building one from the connection options. */
  client?: S3Client;
  /** Keys per ListObjectsV2 page (S3's MaxKeys); default 1000. */
  listPageSize?: number;
}

const DELETE_BATCH = 1000;

/** A blob store in an S3 bucket. */
export class S3Store implements BlobStore {
  readonly url: string;
  readonly bucket: string;
  /** Normalised prefix: `''` or `some/prefix/`. */
  readonly prefix: string;
  readonly client: S3Client;
  private readonly endpoint: string;
  private readonly ownsClient: boolean;
  private readonly listPageSize?: number;
  private readonly checksums: boolean;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    const trimmed = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (trimmed) assertSafeKey(trimmed);
    this.prefix = trimmed ? `${trimmed}/` : '';
    this.url = `s3://${options.bucket}${trimmed ? `/${trimmed}` : ''}`;
    this.client = options.client ?? createS3Client(options);
    this.ownsClient = options.client === undefined;
    this.endpoint = describeEndpoint(options);
    this.listPageSize = options.listPageSize;
    this.checksums = options.checksums !== false;
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<PutResult> {
    const objectKey = this.objectKey(key);
    const known = typeof body === 'string' || Buffer.isBuffer(body) ? sha256Of(body) : undefined;
    const hasher = new HashingStream();
    const checksums = this.checksums ? new PartChecksums(DEFAULT_PART_SIZE) : undefined;
    const streamed = chain(toReadable(body), [
      ...throttleStages(createRateLimiter(options.rateLimit)),
      hasher,
      ...(checksums ? [checksums] : []),
      ...progressStages(options.onProgress, undefined),
    ]);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: objectKey,
        Body: streamed,
        ContentType: options.contentType,
        Metadata: known ? { sha256: known } : undefined,
        // S3 verifies each part's CRC32 (the SDK's, of the part it sends) on receipt and keeps the
        // object's; equal to ours (of the bytes hashed), it is PutResult.checksum.
        ...(this.checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      },
      partSize: DEFAULT_PART_SIZE,
      queueSize: DEFAULT_CONCURRENCY,
      leavePartsOnError: true,
    });
    let done: { ChecksumCRC32?: string };
    try {
      done = await upload.done();
    } catch (error) {
      if (upload.uploadId) await this.abortQuietly(objectKey, upload.uploadId);
      streamed.destroy();
      throw this.mapError(error, key);
    }
    // Kept only when S3's checksum is that of the bytes hashed, cut in parts as lib-storage cuts them (DEFAULT_PART_SIZE).
    return { key, size: hasher.bytes, sha256: hasher.digest(), ...keptChecksum(done.ChecksumCRC32, checksums?.checksum()) };
  }

  async putFile(key: string, filePath: string, options: PutFileOptions): Promise<PutResult> {
    const objectKey = this.objectKey(key);
    return uploadFileResumable(
      { client: this.client, bucket: this.bucket, objectKey, key, mapError: (error) => this.mapError(error, key), checksums: this.checksums },
      filePath,
      options,
    );
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const object = await this.getObject(key);
    return chain(bodyOf(object, key), [
      ...throttleStages(createRateLimiter(options.rateLimit)),
      ...progressStages(options.onProgress, object.ContentLength),
    ]);
  }

  async getFile(key: string, filePath: string, options: GetFileOptions = {}): Promise<PutResult> {
    const object = await this.getObject(key);
    const expectedSha256 = options.expectedSha256 ?? object.Metadata?.sha256;
    try {
      return await streamToFile(bodyOf(object, key), filePath, { ...options, expectedSha256, key, totalBytes: object.ContentLength });
    } catch (error) {
      throw this.mapError(error, key);
    }
  }

  async head(key: string, options: HeadOptions = {}): Promise<ObjectInfo | undefined> {
    const objectKey = this.objectKey(key);
    try {
      // ChecksumMode only when asked: on an SSE-KMS bucket it needs kms:Decrypt, which a plain head does not.
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey, ...(options.checksum ? { ChecksumMode: 'ENABLED' as const } : {}) }));
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified, sha256: out.Metadata?.sha256, ...checksumOf(out) };
    } catch (error) {
      const mapped = this.mapError(error, key);
      if (mapped.code === 'NOT_FOUND') return undefined;
      throw mapped;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertSafePrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: this.prefix + prefix,
        ContinuationToken: token,
        MaxKeys: this.listPageSize,
      })).catch((error: unknown) => {
        throw this.mapError(error);
      });
      const items: ObjectInfo[] = [];
      for (const item of page.Contents ?? []) {
        if (!item.Key?.startsWith(this.prefix)) continue;
        items.push({ key: item.Key.slice(this.prefix.length), size: item.Size ?? 0, lastModified: item.LastModified });
      }
      // S3 pages are already in UTF-8 byte order; some compatible servers (s3rver) return file-walk order.
      yield* items.sort(byKey);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async listFolders(prefix: string): Promise<string[]> {
    assertFolderPrefix(prefix);
    const under = this.prefix + prefix;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.bucket, Prefix: under, Delimiter: '/', ContinuationToken: token, MaxKeys: this.listPageSize,
      })).catch((error: unknown) => {
        throw this.mapError(error);
      });
      for (const common of page.CommonPrefixes ?? []) {
        if (common.Prefix?.startsWith(under)) names.push(common.Prefix.slice(under.length, -1));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  async delete(keys: string[]): Promise<void> {
    const objectKeys = keys.map((key) => this.objectKey(key));
    for (let start = 0; start < objectKeys.length; start += DELETE_BATCH) {
      const batch = objectKeys.slice(start, start + DELETE_BATCH);
      const out = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      })).catch((error: unknown) => {
        throw this.mapError(error);
      });
      const failed = out.Errors?.[0];
      if (failed) {
        throw this.mapError(Object.assign(new Error(failed.Message ?? 'delete failed'), { name: failed.Code ?? 'Error' }), failed.Key);
      }
    }
  }

  /** Closes the client's connections (only when the store created the client). */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private objectKey(key: string): string {
    assertSafeKey(key);
    return this.prefix + key;
  }

  private async getObject(key: string): Promise<GetObjectCommandOutput> {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      throw this.mapError(error, key);
    }
  }

  private mapError(error: unknown, key?: string): ClassifiedError {
    return mapS3Error(error, { bucket: this.bucket, endpoint: this.endpoint, key: key === undefined ? undefined : this.prefix + key }); // the object's key in the bucket
  }

  private async abortQuietly(objectKey: string, uploadId: string): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId })).catch(function ignore() {
      /* s3rver has no AbortMultipartUpload; real buckets reclaim parts by lifecycle rule */
    });
  }
}

/** The response body as a Node stream. */
function bodyOf(object: GetObjectCommandOutput, key: string): Readable {
  if (object.Body instanceof Readable) return object.Body;
  throw new PermanentError(`S3 returned no readable body for ${key}`, { code: 'S3_ERROR' });
}

/** S3's CRC32 of an object, as {@link ObjectInfo.checksum} names it; nothing when S3 reported none (an object written without one). */
function checksumOf(out: { ChecksumCRC32?: string }): { checksum?: string } {
  return out.ChecksumCRC32 ? { checksum: `crc32:${out.ChecksumCRC32}` } : {};
}

function sha256Of(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
