/**
 * Uploading a local file in its stored form (compressed, encrypted: core/crypto/artifact-encoding.ts):
 * encoded into a copy in the spool, then uploaded as any file is — rate limited, resumable from its
 * checkpoint, its stored sha256 checked by the store.
 *
 * The copy is made in two passes: compressed (its plain bytes re-hashed on the way, so a file
 * changed since the snapshot is caught; the compressed bytes hashed), then sealed with a salt and
 * nonce prefix derived from the data key, the object key and the sha256 of the compressed bytes —
 * so the same bytes always seal to the same stored bytes and different bytes never share a nonce,
 * whatever zstd made of them. The copy and a record of what it holds stay until the upload
 * succeeds: a retried upload takes the same copy and continues where the checkpoint says; an object
 * an earlier attempt stored whole is kept.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Transform } from 'node:stream';
import { z } from 'zod';
import { compressionStage, sealingStage, storedFormOf, storedFormSchema, type ArtifactEncoding, type StoredForm } from '../crypto/artifact-encoding';
import { HashingStream } from '../io/hashing-stream';
import { writeFileAtomically } from '../io/json-file';
import type { BlobStore, PutFileOptions } from '../store/blob-store';
import { assertSameHash } from './artifact-check';
import { hashStream } from './spool';
import { readCheckpoint } from '../store/checkpoint';
import { chain, streamToFile } from '../store/transfer';
import type { ArtifactRef } from './types';

/** What {@link putEncodedFile} stored: the artifact's stored form, and the bytes this call sent. */
export interface EncodedUpload {
  stored: StoredForm;
  sentBytes: number;
}

/** The record beside an encoded copy: whose plain bytes it holds, for which object, in what form. */
const copyRecordSchema = z.strictObject({ key: z.string(), plainSha256: z.string(), stored: storedFormSchema });

/**
 * Stores local file `file` (artifact `artifact`: its plain size and sha256) under `key`, encoded
 * with `encoding`, through the copy `copy` (a path in the spool, never beside a database's files).
 * @throws PermanentError `CHECKSUM_MISMATCH` when the file is no longer the artifact's bytes
 */
export async function putEncodedFile(
  store: BlobStore,
  key: string,
  file: string,
  artifact: ArtifactRef,
  encoding: ArtifactEncoding,
  options: Pick<PutFileOptions, 'checkpointPath' | 'rateLimit' | 'onProgress'> & { copy: string },
): Promise<EncodedUpload> {
  const { copy, ...upload } = options;
  const stored = (await keptCopy(copy, key, artifact)) ?? await encodeCopy(file, key, artifact, encoding, copy);
  const held = await storedAs(store, key, stored.size);
  if (held?.size === stored.size && held.sha256 === stored.sha256) {
    await removeCopy(copy);
    return { stored, sentBytes: 0 };
  }
  const put = await store.putFile(key, copy, { ...upload, expectedSha256: stored.sha256 });
  await removeCopy(copy);
  return { stored, sentBytes: put.size - (put.resumedBytes ?? 0) };
}

const recordOf = (copy: string): string => `${copy}.json`;

async function removeCopy(copy: string): Promise<void> {
  await rm(copy, { force: true });
  await rm(recordOf(copy), { force: true });
}

/** The stored form of the copy an earlier attempt made of the same bytes for the same object, when it is still whole. */
async function keptCopy(copy: string, key: string, artifact: ArtifactRef): Promise<StoredForm | undefined> {
  const record = await readCheckpoint(recordOf(copy), copyRecordSchema);
  if (!record || record.key !== key || record.plainSha256 !== artifact.sha256) return undefined;
  const info = await stat(copy).catch(() => undefined);
  return info?.size === record.stored.size ? record.stored : undefined;
}

/** Encodes `file` into `copy` (see the file comment) and records what it holds. */
async function encodeCopy(file: string, key: string, artifact: ArtifactRef, encoding: ArtifactEncoding, copy: string): Promise<StoredForm> {
  await mkdir(path.dirname(copy), { recursive: true });
  await removeCopy(copy);
  const plain = new HashingStream();
  const compressing = compressionStage(encoding, artifact.name);
  const sealedInput = compressing ? `${copy}.zst` : file;
  try {
    // The bytes to seal, and their sha256: the compressed copy as it is written, else the file itself.
    const compressed = compressing ? await streamToFile(chain(readStream(file), [plain, compressing]), sealedInput, { key: sealedInput }) : undefined;
    if (!compressing) await hashThrough(file, [plain]);
    const read = { size: plain.bytes, sha256: plain.digest() };
    assertSameHash(artifact, read);
    const input = compressed ?? read;
    const sealing = sealingStage(encoding, key, input.sha256);
    const again = new HashingStream();
    const out = await streamToFile(chain(readStream(sealedInput), [again, ...(sealing ? [sealing] : [])]), copy, { key: copy });
    if (again.digest() !== input.sha256) { // changed between the passes: this copy is never stored
      await removeCopy(copy);
      assertSameHash({ name: artifact.name, ...input }, { size: again.bytes, sha256: '(changed while it was sealed)' });
    }
    const stored = storedFormOf(encoding, artifact.name, { size: out.size, sha256: out.sha256 });
    await writeFileAtomically(recordOf(copy), JSON.stringify({ key, plainSha256: artifact.sha256, stored }), { mode: 0o600 });
    return stored;
  } finally {
    if (compressing) await rm(sealedInput, { force: true });
  }
}

const readStream = (file: string) => createReadStream(file, { highWaterMark: 1 << 20 });

/** `source` read through `stages` (hashers), nothing written. */
async function hashThrough(source: string, stages: Transform[]): Promise<void> {
  for await (const _chunk of chain(readStream(source), stages)) { /* hashed in passing */ }
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
