/**
 * Blob storage for backups: one interface, a local-directory and an S3 implementation.
 * Everything streams: memory use does not depend on object size. Every write and read computes
 * sha256 on the fly; a read with an expected sha256 fails with PermanentError `CHECKSUM_MISMATCH`.
 */
import type { Readable } from 'node:stream';
import type { ChunkWriter } from '../io/chunk-writer';
import type { RateLimit } from './rate-limiter';

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
  /** Hex sha256 of the content, when the store recorded it (S3 object metadata). */
  sha256?: string;
  /**
   * With {@link HeadOptions.checksum}: the store's own checksum of the object as it holds it, when
   * it keeps one (S3: the CRC32 it verified the object's bytes, or each part's, against on receipt
   * — `crc32:<base64>`, a multipart object's ending `-<parts>`). See {@link PutResult.checksum}.
   */
  checksum?: string;
}

export interface HeadOptions {
  /** Ask for the store's checksum too ({@link ObjectInfo.checksum}; S3: ChecksumMode, which needs kms:Decrypt on an SSE-KMS bucket). */
  checksum?: boolean;
}

export interface TransferProgress {
  /** Bytes moved so far, including bytes a resumed transfer had moved before. */
  (transferredBytes: number, totalBytes: number | undefined): void;
}

export interface PutOptions {
  /** Bytes per second; 0 or undefined = unlimited. */
  rateLimit?: number;
  onProgress?: TransferProgress;
  contentType?: string;
  /**
   * The object need not be durable yet when the write returns: the writer calls
   * {@link BlobStore.persist} for it, with the other objects it wrote so, before anything refers to
   * it. Stores without `persist` ignore this (their objects are durable when written).
   */
  persistLater?: boolean;
}

export interface PutFileOptions extends PutOptions {
  /**
   * Local path where the upload's progress is kept. If it exists, the upload resumes from the last
   * acknowledged part instead of starting over; it is removed when the upload completes.
   */
  checkpointPath: string;
  /** Part size for multipart uploads (bytes); the store raises it when a file would need > 10 000 parts. */
  partSize?: number;
  /** Parts in flight at once. */
  concurrency?: number;
  /** When given, the file must hash to this or the upload fails (PermanentError `CHECKSUM_MISMATCH`) and nothing is committed. */
  expectedSha256?: string;
}

export interface GetOptions {
  /** Bytes per second (0 or undefined = unlimited), or a bucket shared by downloads running at once. */
  rateLimit?: RateLimit;
  onProgress?: TransferProgress;
}

export interface GetFileOptions extends GetOptions {
  /** When given, a download that hashes differently is deleted and fails with `CHECKSUM_MISMATCH`. */
  expectedSha256?: string;
}

export interface PutResult {
  key: string;
  size: number;
  sha256: string;
  /** For a resumed `putFile`: bytes already stored by an earlier, interrupted attempt and not sent again. */
  resumedBytes?: number;
  /**
   * `put`: the store's checksum of the object it stored ({@link ObjectInfo.checksum}), when it
   * keeps one and it is the checksum of the bytes hashed into `sha256` (computed beside it): the
   * store verified on receipt that it holds bytes of that checksum, so while `head` reports it the
   * object is still the bytes hashed — no need to read it back.
   */
  checksum?: string;
}

export interface BlobStore {
  /** Where this store points, e.g. `file:///var/backups` or `s3://bucket/prefix`. */
  readonly url: string;
  /** Streams `body` to `key`. Atomic: readers see the old object or the whole new one, never a part. */
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<PutResult>;
  /** Uploads a local file; resumable from `options.checkpointPath` after a crash. */
  putFile(key: string, filePath: string, options: PutFileOptions): Promise<PutResult>;
  /** Streams an object. Throws PermanentError `NOT_FOUND` when missing. */
  get(key: string, options?: GetOptions): Promise<Readable>;
  /** Downloads an object to `filePath` (written atomically), returning its size and sha256. */
  getFile(key: string, filePath: string, options?: GetFileOptions): Promise<PutResult>;
  /** Object metadata, or undefined when it does not exist. */
  head(key: string, options?: HeadOptions): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * Optional: the names of the folders directly under folder `prefix` (ending in `/`, or empty for
   * the top), without listing what is in them (S3: a delimited listing). See {@link subfolders}.
   */
  listFolders?(prefix: string): Promise<string[]>;
  /** Deletes the keys; missing keys are not an error. */
  delete(keys: string[]): Promise<void>;
  /**
   * Optional: removes what interrupted writes left under the folder `prefix` (ending in `/`) that
   * `list` does not show — a local directory's temporary files of a killed put or an abandoned
   * resumable copy. (An S3 bucket's incomplete multipart uploads are its lifecycle rule's.)
   */
  discardPartialWrites?(prefix: string): Promise<void>;
  /**
   * Optional: an object's size and sha256, computed where it is stored, without streaming it out
   * (a local directory hashes its file in place, with reused buffers). Those who have it use it to
   * re-check what they wrote; without it they hash `get`'s stream. Throws PermanentError `NOT_FOUND`.
   */
  hashObject?(key: string): Promise<{ size: number; sha256: string }>;
  /**
   * Optional: the path of the object's own file, where the store keeps objects as local files (a
   * local directory), for a reader that only reads it — a restore that would otherwise copy it
   * to read the copy. Nothing may write, move or delete the object through this path.
   */
  localFile?(key: string): string;
  /**
   * Optional: `key` written a chunk at a time, each chunk's buffer free again when its write
   * resolves (core/io/chunk-writer.ts), for producers that reuse their buffers; atomic and durable
   * as `put` is when it ends, nothing stored when it is aborted. Stores without it take a stream (`put`).
   */
  openWriter?(key: string, options?: Pick<PutOptions, 'persistLater'>): Promise<ChunkWriter<PutResult>>;
  /**
   * Optional: makes objects written with `persistLater` durable, all at once — a local directory
   * fsyncs their files and folders many at a time, where one fsync after another at each write
   * took most of a 1 000-table dump. Stores without it store every object durably as it is written.
   */
  persist?(keys: readonly string[]): Promise<void>;
  /**
   * Optional: stores a local file as `<prefix>/<its sha256>` in one read (hashed as it is copied),
   * for content-addressed pools; when an object of that key and size is there already, nothing is
   * written (`existed`). Stores without it are given the file twice: hashed first, then `putFile`
   * under its key (an S3 object cannot be renamed once its hash is known).
   */
  putFileAddressed?(prefix: string, filePath: string, options?: PutOptions): Promise<PutResult & { existed: boolean }>;
}

/**
 * The names of the folders directly under folder `prefix`, sorted: a few requests where the store
 * lists folders (S3: one per thousand folders, however many objects they hold), else derived from
 * every key under `prefix`.
 */
export async function subfolders(store: BlobStore, prefix: string): Promise<string[]> {
  if (store.listFolders) return (await store.listFolders(prefix)).sort();
  const names = new Set<string>();
  for await (const object of store.list(prefix)) {
    const rest = object.key.slice(prefix.length);
    const cut = rest.indexOf('/');
    if (cut > 0) names.add(rest.slice(0, cut));
  }
  return [...names].sort();
}

/** Whether any object's key starts with `prefix` (the first of a listing, not all of it). */
export async function holdsObjects(store: BlobStore, prefix: string): Promise<boolean> {
  for await (const object of store.list(prefix)) return object !== undefined;
  return false;
}

/**
 * Deletes every object whose key starts with `prefix`, and — for a folder prefix — what
 * interrupted writes left there; returns how many objects there were.
 */
export async function deletePrefix(store: BlobStore, prefix: string): Promise<number> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  await store.delete(keys);
  if (prefix.endsWith('/')) await store.discardPartialWrites?.(prefix);
  return keys.length;
}
