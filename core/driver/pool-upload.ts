/**
 * Uploading into an instance's content-addressed pool (`pool/<engine>/<instance>/<sha256>`,
 * catalog/layout.ts): a file is hashed first, and uploaded only when the pool does not hold its
 * bytes yet, so a backup of unchanged immutable files (Cassandra's SSTable components) sends
 * nothing and lists the objects an earlier backup uploaded.
 *
 * A file the database may rewrite in place while we read it (Cassandra's `Statistics.db`, which a
 * snapshot's hard link shares with the live table: Medusa issue #587) is pooled as `mutable`: it is
 * first copied into the spool while being hashed, and the copy is uploaded, so the bytes hashed
 * are the bytes sent; its name is never trusted to mean its content.
 *
 * A file the pool cannot hold yet — no object of its size is there ({@link listPoolSizes}) — goes
 * in one read where the store can take it so (`BlobStore.putFileAddressed`: a local directory
 * copies and hashes at once, then names the copy by its hash); the bytes hashed are then the bytes
 * stored, mutable or not.
 *
 * Memory stays flat: every read is a stream, and the stores' uploads use bounded part buffers.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PermanentError } from '../errors';
import { hashLocalFile } from '../io/hash-threads';
import { HashingStream } from '../io/hashing-stream';
import { removeWrittenFile } from '../io/written-file';
import type { Logger } from '../logger';
import { parsePoolKey } from '../catalog/layout';
import { statSource } from '../store/transfer';
import { assertArtifactName } from './spool';
import { putEncodedFile, storedAs } from './encoded-upload';
import { storedFormOf } from '../crypto/artifact-encoding';
import { pooledObjectName, type PoolEncoding } from '../crypto/pool-key';
import type { ArtifactDestination, StoredArtifact } from './types';

/** Folder of the spool where pooling keeps its upload checkpoints (by artifact name) and mutable files' copies. */
const POOL_SPOOL = '.pool-upload';

export interface PutPooledOptions {
  /** The node's spool: upload checkpoints (a retried upload resumes) and mutable files' copies go under it. */
  spoolDir: string;
  /** The database may rewrite the file in place: copy it into the spool while hashing, then pool the copy. */
  mutable?: boolean;
  logger?: Logger;
  /** Stops between the read, the check and the upload (and during the copy of a mutable file). */
  signal?: AbortSignal;
  /**
   * The sizes of the objects the pool held when the step began ({@link listPoolSizes}): a file of
   * another size is new, and goes in one read where the store can. Without it every file is
   * hashed first.
   */
  poolSizes?: ReadonlySet<number>;
}

export interface PooledUpload {
  /** The artifact as a manifest lists it: `name`, its size and sha256, and its pool key. */
  artifact: StoredArtifact;
  /** Bytes this call sent: 0 when the pool held the bytes already; less than the size when an interrupted upload resumed. */
  sentBytes: number;
}

/**
 * Puts `file` into the pool `pool` points at (`pool.prefix` = `poolPrefix(engine, instance)`, as
 * `BackupContext.pool` gives it) under artifact name `name`, unless the pool already holds the same
 * bytes (same size, and the same sha256 when the store recorded one). Rate limited by
 * `pool.rateLimit` (bytes sent), resumable from a checkpoint in the spool.
 * @throws PermanentError `CHECKSUM_MISMATCH` when the file changed between its hashing and its
 *   upload (a file the database rewrites must be pooled with `mutable: true`); `INVALID_PATH` when
 *   `pool.prefix` is not a pool or `name` not a relative artifact name.
 *
 * @example
 * ```ts
 * const { artifact, sentBytes } = await putPooled(ctx.pool!, '/var/lib/cassandra/data/ks/t/snapshots/tag/nb-1-big-Data.db',
 *   'ks/t/nb-1-big-Data.db', { spoolDir: ctx.spoolDir, logger: ctx.logger });
 * ```
 */
export async function putPooled(pool: ArtifactDestination, file: string, name: string, options: PutPooledOptions): Promise<PooledUpload> {
  assertArtifactName(name);
  poolObjectKey(pool.prefix, NO_HASH); // refused before anything is read or written when the prefix is no pool
  options.signal?.throwIfAborted();
  const encoding = await pool.poolEncoding?.();
  if (encoding) return putEncoded(pool, file, name, options, encoding);
  if (pool.store.putFileAddressed && options.poolSizes && !options.poolSizes.has((await statSource(file)).size)) {
    return putInOneRead(pool, file, name, options);
  }
  const work = path.join(options.spoolDir, POOL_SPOOL);
  const source = options.mutable ? await copyHashed(file, work, options.signal) : { file, ...(await hashLocalFile(file, options.signal)) };
  try {
    const key = poolObjectKey(pool.prefix, source.sha256);
    const artifact: StoredArtifact = { name, size: source.size, sha256: source.sha256, key };
    return await oneAtATime(`${pool.store.url} ${key}`, async function checkOrUpload() {
      options.signal?.throwIfAborted();
      if (await holds(pool, artifact)) {
        options.logger?.debug('pooled artifact already stored', { name, key, bytes: artifact.size });
        return { artifact, sentBytes: 0 };
      }
      const stored = await pool.store.putFile(key, source.file, {
        expectedSha256: source.sha256,
        rateLimit: pool.rateLimit,
        checkpointPath: path.join(work, 'checkpoints', `${name}.json`),
      }).catch((error: unknown) => {
        throw changedWhileRead(error, file, name);
      });
      const sentBytes = stored.size - (stored.resumedBytes ?? 0);
      options.logger?.debug('pooled artifact uploaded', { name, key, bytes: stored.size, sentBytes });
      return { artifact, sentBytes };
    });
  } finally {
    if (source.file !== file) await rm(source.file, { force: true });
  }
}

/**
 * `file` into the pool encoded (core/crypto/pool-key.ts): named by the keyed hash of its plaintext's
 * sha256, uploaded encoded unless the pool holds that object already (its stored size and sha256
 * then read from the store: S3 records them, a local directory hashes its file in place).
 */
async function putEncoded(pool: ArtifactDestination, file: string, name: string, options: PutPooledOptions, encoding: PoolEncoding): Promise<PooledUpload> {
  const work = path.join(options.spoolDir, POOL_SPOOL);
  const source = options.mutable ? await copyHashed(file, work, options.signal) : { file, ...(await hashLocalFile(file, options.signal)) };
  try {
    const key = poolObjectKey(pool.prefix, pooledObjectName(encoding, name, source.sha256));
    const artifact: StoredArtifact = { name, size: source.size, sha256: source.sha256, key };
    return await oneAtATime(`${pool.store.url} ${key}`, async function checkOrUpload() {
      options.signal?.throwIfAborted();
      const held = await storedAs(pool.store, key);
      if (held) {
        options.logger?.debug('pooled artifact already stored', { name, key, bytes: artifact.size });
        return { artifact: { ...artifact, stored: storedFormOf(encoding, name, held) }, sentBytes: 0 };
      }
      const encoded = await putEncodedFile(pool.store, key, source.file, artifact, encoding, {
        rateLimit: pool.rateLimit,
        checkpointPath: path.join(work, 'checkpoints', `${name}.json`),
        copy: path.join(work, 'encoded', name),
      }).catch((error: unknown) => {
        throw changedWhileRead(error, file, name);
      });
      options.logger?.debug('pooled artifact uploaded', { name, key, bytes: encoded.stored.size, sentBytes: encoded.sentBytes });
      return { artifact: { ...artifact, stored: encoded.stored }, sentBytes: encoded.sentBytes };
    });
  } finally {
    if (source.file !== file) await rm(source.file, { force: true });
  }
}

/** A new file into a store that names it by its hash as it copies it. */
async function putInOneRead(pool: ArtifactDestination, file: string, name: string, options: PutPooledOptions): Promise<PooledUpload> {
  const stored = await pool.store.putFileAddressed!(pool.prefix, file, { rateLimit: pool.rateLimit });
  options.logger?.debug(stored.existed ? 'pooled artifact already stored' : 'pooled artifact uploaded in one read', { name, key: stored.key, bytes: stored.size });
  return { artifact: { name, size: stored.size, sha256: stored.sha256, key: stored.key }, sentBytes: stored.existed ? 0 : stored.size };
}

/**
 * The sizes of the objects in the pool `pool` points at (one listing), for
 * {@link PutPooledOptions.poolSizes}; undefined (nothing listed) when its store cannot take a file
 * in one read anyway.
 */
export async function listPoolSizes(pool: ArtifactDestination): Promise<Set<number> | undefined> {
  if (!pool.store.putFileAddressed) return undefined;
  const sizes = new Set<number>();
  for await (const object of pool.store.list(`${pool.prefix}/`)) sizes.add(object.size);
  return sizes;
}

/** A well-formed sha256, to check a pool prefix before any file's hash is known. */
const NO_HASH = '0'.repeat(64);

/** Pool uploads running in this process, by store and key. */
const running = new Map<string, Promise<unknown>>();

/**
 * Runs `work` once no other call for `id` runs: two files with the same bytes (identical components
 * of two tables) pooled at once would otherwise both upload to one key; the second finds the first's.
 */
async function oneAtATime<T>(id: string, work: () => Promise<T>): Promise<T> {
  while (running.has(id)) await running.get(id)!.catch(() => undefined);
  const done = work();
  running.set(id, done);
  try {
    return await done;
  } finally {
    running.delete(id);
  }
}

/** `<prefix>/<sha256>`, refused unless it is a pool object's key. */
function poolObjectKey(prefix: string, sha256: string): string {
  const key = `${prefix}/${sha256}`;
  if (!parsePoolKey(key)) {
    throw new PermanentError(`${prefix} is not a pool (expected pool/<engine>/<instance>): pooled artifacts go only there`, { code: 'INVALID_PATH' });
  }
  return key;
}

/** True when the pool already holds the artifact's bytes (the key is their sha256; the size and a recorded sha256 must agree). */
async function holds(pool: ArtifactDestination, artifact: StoredArtifact): Promise<boolean> {
  const info = await pool.store.head(artifact.key);
  return info !== undefined && info.size === artifact.size && (info.sha256 === undefined || info.sha256 === artifact.sha256);
}

/** Copies `file` into `dir` while hashing it (one read of the source). */
async function copyHashed(file: string, dir: string, signal: AbortSignal | undefined): Promise<{ file: string; size: number; sha256: string }> {
  await mkdir(dir, { recursive: true });
  const copy = path.join(dir, `${randomUUID()}.copy`);
  const hasher = new HashingStream();
  const writer = createWriteStream(copy, { highWaterMark: 1 << 20 });
  try {
    await pipeline([createReadStream(file, { highWaterMark: 1 << 20 }), hasher, writer], { signal });
  } catch (error) {
    await removeWrittenFile(writer, copy);
    throw error;
  }
  return { file: copy, size: hasher.bytes, sha256: hasher.digest() };
}

/** The store's `CHECKSUM_MISMATCH` said plainly: the file changed after it was hashed. Other errors pass. */
function changedWhileRead(error: unknown, file: string, name: string): unknown {
  if ((error as { code?: unknown }).code !== 'CHECKSUM_MISMATCH') return error;
  return new PermanentError(
    `${file} (artifact ${name}) changed while it was being pooled: its bytes no longer hash as when it was read (${(error as Error).message}); pool a file the database rewrites in place with mutable: true`,
    { code: 'CHECKSUM_MISMATCH', cause: error },
  );
}
