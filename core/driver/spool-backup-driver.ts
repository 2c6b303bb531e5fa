/**
 * Base class for drivers that spool a snapshot on the host and upload it afterwards (or stream some
 * artifacts straight to the store, which upload then only confirms). Subclasses write only
 * `createSnapshot` and `validateSnapshot`; upload and cleanup are the same for every engine and
 * live here (template method).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../errors';
import { isOwnPoolObject } from '../catalog/layout';
import type { BlobStore } from '../store/blob-store';
import { verifyArtifact } from './artifact-sink';
import { putEncodedFile } from './encoded-upload';
import { encodes } from '../crypto/artifact-encoding';
import { resolveInside } from '../io/resolve-inside';
import type {
  ArtifactRef, BackupContext, BackupDriver, SnapshotRef, SnapshotTaken, StoredArtifact, TransferOptions, UploadResult, ValidationReport,
} from './types';

/** Folder of the spool where artifacts are encoded before their upload (encoded-upload.ts). */
const ENCODED_COPIES = '.encoded';

export abstract class SpoolBackupDriver<C> implements BackupDriver<C> {
  abstract createSnapshot(ctx: BackupContext<C>): Promise<SnapshotTaken>;
  abstract validateSnapshot(ctx: BackupContext<C>, snapshot: SnapshotRef): Promise<ValidationReport>;

  async upload(_ctx: BackupContext<C>, snapshot: SnapshotRef, options: TransferOptions): Promise<UploadResult> {
    const started = Date.now();
    const total = snapshot.artifacts.reduce((sum, a) => sum + a.size, 0);
    let done = 0;
    let sent = 0;
    const artifacts: StoredArtifact[] = [];
    for (const artifact of snapshot.artifacts) {
      if (artifact.key !== undefined) {
        assertInPlace(snapshot, options, artifact as StoredArtifact);
        done += artifact.size;
        options.onProgress?.(done, total);
        const { storeChecksum: _validationOnly, ...stored } = artifact; // not a manifest's (ArtifactRef.storeChecksum)
        artifacts.push(stored as StoredArtifact);
        continue;
      }
      const file = resolveInside(snapshot.spoolDir, artifact.name);
      const key = `${options.prefix}/${artifact.name}`;
      const before = done;
      if (encodes(options.encoding, artifact.name)) {
        const encoded = await putEncodedFile(options.store, key, file, artifact, options.encoding, {
          checkpointPath: `${file}.upload-checkpoint.json`,
          copy: path.join(snapshot.spoolDir, ENCODED_COPIES, artifact.name),
          rateLimit: options.rateLimit,
          onProgress: (bytes) => options.onProgress?.(before + Math.min(bytes, artifact.size), total),
        });
        done = before + artifact.size;
        options.onProgress?.(done, total);
        sent += encoded.sentBytes;
        artifacts.push({ ...artifact, key, stored: encoded.stored });
        continue;
      }
      if (await isStoredWhole(options.store, key, artifact)) {
        done += artifact.size;
        options.onProgress?.(done, total);
        artifacts.push({ ...artifact, key });
        continue;
      }
      const stored = await options.store.putFile(key, file, {
        checkpointPath: `${file}.upload-checkpoint.json`,
        expectedSha256: artifact.sha256,
        rateLimit: options.rateLimit,
        onProgress: (bytes) => options.onProgress?.(before + bytes, total),
      });
      done = before + stored.size;
      sent += stored.size - (stored.resumedBytes ?? 0);
      artifacts.push({ ...artifact, key });
    }
    return { artifacts, bytes: done, durationMs: Date.now() - started, sentBytes: sent };
  }

  async cleanup(_ctx: BackupContext<C>, snapshot: Pick<SnapshotRef, 'spoolDir' | 'consistency'>): Promise<void> {
    await rm(snapshot.spoolDir, { recursive: true, force: true });
  }
}

/**
 * True when `key` already holds exactly the artifact (an earlier attempt of this backup uploaded it
 * whole): same size, and the same sha256 — as the store recorded it, else hashed from the store.
 */
async function isStoredWhole(store: BlobStore, key: string, artifact: ArtifactRef): Promise<boolean> {
  const info = await store.head(key);
  if (info?.size !== artifact.size) return false;
  if (info.sha256 !== undefined) return info.sha256 === artifact.sha256;
  return verifyArtifact('', { ...artifact, key }, store).then(() => true, () => false);
}

/**
 * An artifact the snapshot wrote straight to the store must be under this node's prefix, or be the
 * object of its own bytes in its instance's pool (catalog/layout.ts). Its presence and size are
 * checked by finalize, which does so for every artifact before the manifest.
 */
function assertInPlace(snapshot: Pick<SnapshotRef, 'engine' | 'instance'>, options: TransferOptions, artifact: StoredArtifact): void {
  if (artifact.key === `${options.prefix}/${artifact.name}`) return;
  if (isOwnPoolObject(artifact, snapshot.engine, snapshot.instance)) return;
  throw new PermanentError(
    `artifact ${artifact.name} was stored as ${artifact.key}, outside this node's prefix ${options.prefix}/ and not its sha256's object in the pool of ${snapshot.engine}/${snapshot.instance}`,
    { code: 'INVALID_PATH' },
  );
}
