/**
 * Base class for drivers that spool a snapshot on the host and upload it afterwards. Subclasses
 * write only `createSnapshot` and `validateSnapshot`; upload and cleanup are the same for every
 * engine and live here (template method).
 */
import { rm } from 'node:fs/promises';
import { resolveInside } from './spool';
import type {
  BackupContext, BackupDriver, SnapshotRef, StoredArtifact, TransferOptions, UploadResult, ValidationReport,
} from './types';

export abstract class SpoolBackupDriver<C> implements BackupDriver<C> {
  abstract createSnapshot(ctx: BackupContext<C>): Promise<SnapshotRef>;
  abstract validateSnapshot(ctx: BackupContext<C>, snapshot: SnapshotRef): Promise<ValidationReport>;

  async upload(_ctx: BackupContext<C>, snapshot: SnapshotRef, options: TransferOptions): Promise<UploadResult> {
    const started = Date.now();
    const total = snapshot.artifacts.reduce((sum, a) => sum + a.size, 0);
    let done = 0;
    const artifacts: StoredArtifact[] = [];
    for (const artifact of snapshot.artifacts) {
      const file = resolveInside(snapshot.spoolDir, artifact.name);
      const key = `${options.prefix}/${artifact.name}`;
      const before = done;
      const stored = await options.store.putFile(key, file, {
        checkpointPath: `${file}.upload-checkpoint.json`,
        expectedSha256: artifact.sha256,
        rateLimit: options.rateLimit,
        onProgress: (bytes) => options.onProgress?.(before + bytes, total),
      });
      done = before + stored.size;
      artifacts.push({ ...artifact, key });
    }
    return { artifacts, bytes: done, durationMs: Date.now() - started };
  }

  async cleanup(_ctx: BackupContext<C>, snapshot: Pick<SnapshotRef, 'spoolDir' | 'consistency'>): Promise<void> {
    await rm(snapshot.spoolDir, { recursive: true, force: true });
  }
}
