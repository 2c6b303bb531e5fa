/**
 * Uploading a spooled artifact in its stored form (compressed, encrypted:
 * core/crypto/artifact-encoding.ts): encoded into a copy beside it (its plain bytes re-hashed on
 * the way, so a spool file changed since the snapshot is caught), then uploaded as any file is —
 * rate limited, resumable from its checkpoint, its stored sha256 checked by the store. The
 * encoding is deterministic (the node's data key, the object key, the plain sha256), so a retried
 * upload encodes the same bytes: an object an earlier attempt stored whole is kept, a part-done
 * one resumes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { encodingStages, storedFormOf, type ArtifactEncoding, type StoredForm } from '../crypto/artifact-encoding';
import { HashingStream } from '../io/hashing-stream';
import { removeWrittenFile } from '../io/written-file';
import type { BlobStore, PutFileOptions } from '../store/blob-store';
import { assertSameHash } from './artifact-check';
import { hashStream } from './spool';
import type { ArtifactRef } from './types';

/** What {@link putEncodedFile} stored: the artifact's stored form, and the bytes this call sent. */
export interface EncodedUpload {
  stored: StoredForm;
  sentBytes: number;
}

/**
 * Stores spool file `file` (artifact `artifact`, its plain size and sha256) under `key`, encoded
 * with `encoding`.
 * @throws PermanentError `CHECKSUM_MISMATCH` when the file is no longer the artifact's bytes
 */
export async function putEncodedFile(
  store: BlobStore,
  key: string,
  file: string,
  artifact: ArtifactRef,
  encoding: ArtifactEncoding,
  options: Pick<PutFileOptions, 'checkpointPath' | 'rateLimit' | 'onProgress'>,
): Promise<EncodedUpload> {
  const copy = `${file}.encoded`;
  const partial = `${copy}.partial`;
  const plain = new HashingStream();
  const out = new HashingStream();
  const writer = createWriteStream(partial, { highWaterMark: 1 << 20 });
  try {
    await pipeline([createReadStream(file, { highWaterMark: 1 << 20 }), plain, ...encodingStages(encoding, artifact.name, key, artifact.sha256), out, writer]);
    assertSameHash(artifact, { size: plain.bytes, sha256: plain.digest() });
    await rename(partial, copy);
  } catch (error) {
    await removeWrittenFile(writer, partial);
    throw error;
  }
  try {
    const stored = storedFormOf(encoding, artifact.name, { size: out.bytes, sha256: out.digest() });
    const held = await storedAs(store, key, stored.size);
    if (held?.size === stored.size && held.sha256 === stored.sha256) return { stored, sentBytes: 0 };
    const put = await store.putFile(key, copy, { ...options, expectedSha256: stored.sha256 });
    return { stored, sentBytes: put.size - (put.resumedBytes ?? 0) };
  } finally {
    await rm(copy, { force: true });
  }
}

/**
 * The size and sha256 of the object at `key`, or undefined when there is none: as the store
 * recorded them (S3), else hashed where it lies (a local directory) — unless its size is not
 * `expectedSize`, which settles it without hashing.
 */
export async function storedAs(store: BlobStore, key: string, expectedSize?: number): Promise<{ size: number; sha256: string } | undefined> {
  const info = await store.head(key);
  if (!info) return undefined;
  if (info.sha256 !== undefined) return { size: info.size, sha256: info.sha256 };
  if (expectedSize !== undefined && info.size !== expectedSize) return { size: info.size, sha256: '' };
  return store.hashObject ? store.hashObject(key) : hashStream(await store.get(key));
}
