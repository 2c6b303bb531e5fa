/**
 * Checking an artifact's bytes against what its record says, and reading a stored artifact's plain
 * bytes whatever its stored form (core/crypto/artifact-encoding.ts): the stored bytes' size and
 * sha256 checked as they arrive, then opened and inflated.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { PermanentError } from '../errors';
import { HashingStream } from '../io/hashing-stream';
import { decodingStages, type KeyOpener } from '../crypto/artifact-encoding';
import type { BlobStore, GetOptions } from '../store/blob-store';
import { chain } from '../store/transfer';
import type { ArtifactRef, StoredArtifact } from './types';

/** `source`'s bytes, failing at the end with `CHECKSUM_MISMATCH` unless they are the artifact's (size and sha256). */
export function verifiedRead(source: Readable, artifact: ArtifactRef): Readable {
  return chain(source, [new VerifyingStream(artifact)]);
}

/**
 * Passes bytes through and, at the end, fails with `CHECKSUM_MISMATCH` unless they hash as
 * recorded (a long artifact hashed by a hashing thread, beside the checks that read it).
 */
export class VerifyingStream extends HashingStream {
  constructor(artifact: Pick<ArtifactRef, 'name' | 'size' | 'sha256'>, onVerified: () => void = () => undefined) {
    super((hashed) => {
      assertSameHash(artifact, hashed);
      onVerified();
    });
  }
}

/** What the stored bytes of `artifact` must be: its stored form's size and sha256 when it has one, else its own. */
export function storedBytesOf(artifact: ArtifactRef): Pick<ArtifactRef, 'name' | 'size' | 'sha256'> {
  return artifact.stored ? { name: `${artifact.name} (as stored)`, size: artifact.stored.size, sha256: artifact.stored.sha256 } : artifact;
}

/**
 * The plain bytes of stored artifact `artifact`: its stored bytes checked against its stored form
 * (failing at the end with `CHECKSUM_MISMATCH`) and decoded; an encrypted artifact's segments are
 * released only once authenticated (`SEALED_ARTIFACT_DAMAGED`). Its plain bytes are not checked
 * here: read them through {@link verifiedRead} or hash them.
 * @throws PermanentError `KEY_UNAVAILABLE` for an encrypted artifact without `openKey`, or the key's errors
 */
export async function openStored(store: BlobStore, artifact: StoredArtifact, openKey: KeyOpener | undefined, options?: GetOptions): Promise<Readable> {
  if (!artifact.stored) return store.get(artifact.key, options);
  const decoding = await decodingStages(artifact.stored, artifact.key, openKey);
  return chain(await store.get(artifact.key, options), [new VerifyingStream(storedBytesOf(artifact)), ...decoding, atMost(artifact)]);
}

/** Throws `CHECKSUM_MISMATCH` unless `actual` is the artifact's recorded size and sha256. */
export function assertSameHash(artifact: Pick<ArtifactRef, 'name' | 'size' | 'sha256'>, actual: { size: number; sha256: string }): void {
  if (actual.sha256 !== artifact.sha256 || actual.size !== artifact.size) {
    throw new PermanentError(
      `artifact ${artifact.name} does not match its checksum (expected ${artifact.size} bytes, sha256 ${artifact.sha256}; got ${actual.size} bytes, ${actual.sha256})`,
      { code: 'CHECKSUM_MISMATCH' },
    );
  }
}

/** Fails as soon as more than the artifact's plain size passes (an edited artifact inflating without end). */
function atMost(artifact: ArtifactRef): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > artifact.size) {
        callback(new PermanentError(`artifact ${artifact.name} decodes to more than its recorded ${artifact.size} bytes`, { code: 'CHECKSUM_MISMATCH' }));
        return;
      }
      callback(null, chunk);
    },
  });
}
