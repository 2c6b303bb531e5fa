/**
 * Backup side of the MySQL/MariaDB driver: a logical dump (network) or a physical copy
 * (mariabackup/xtrabackup on the host), optionally with the binary logs archived for
 * point-in-time recovery. Upload and cleanup are the shared spool ones.
 */
import { mkdir, rm } from 'node:fs/promises';
import { SpoolBackupDriver } from '../../core/driver/spool-backup-driver';
import { verifyArtifact } from '../../core/driver/spool';
import type { BackupContext, JsonObject, SnapshotRef, ValidationCheck, ValidationReport } from '../../core/driver/types';
import type { MysqlConfig } from './config';
import { ENGINE } from './layout';
import { takeLogicalSnapshot, validateLogicalSnapshot } from './logical-backup';
import { takePhysicalSnapshot, validatePhysicalSnapshot } from './physical-backup';
import { archiveBinlogs } from './binlog-archive';

export class MysqlBackupDriver extends SpoolBackupDriver<MysqlConfig> {
  async createSnapshot(ctx: BackupContext<MysqlConfig>): Promise<SnapshotRef> {
    await rm(ctx.spoolDir, { recursive: true, force: true });
    await mkdir(ctx.spoolDir, { recursive: true });
    const taken = ctx.config.mode === 'physical' ? await takePhysicalSnapshot(ctx) : await takeLogicalSnapshot(ctx);
    const artifacts = [...taken.artifacts];
    const facts = { ...taken.facts };
    if (ctx.config.archiveBinlogs) {
      const archived = await archiveBinlogs(ctx, taken.consistency);
      artifacts.push(...archived.artifacts);
      facts.binlogs = archived.binlogs;
      // How far the archive reaches, so point-in-time restores can tell a covered target time.
      facts.binlogArchive = { archivedAt: archived.archivedAt, end: archived.end };
    }
    return {
      backupId: ctx.backupId,
      engine: ENGINE,
      instance: ctx.instance,
      spoolDir: ctx.spoolDir,
      artifacts,
      consistency: taken.consistency as unknown as JsonObject,
      facts: facts as unknown as JsonObject,
      createdAt: new Date().toISOString(),
    };
  }

  async validateSnapshot(ctx: BackupContext<MysqlConfig>, snapshot: SnapshotRef): Promise<ValidationReport> {
    const checks: ValidationCheck[] = [];
    const damaged: string[] = [];
    for (const artifact of snapshot.artifacts) {
      await verifyArtifact(snapshot.spoolDir, artifact).catch((error: Error) => damaged.push(`${artifact.name}: ${error.message}`));
    }
    checks.push({ name: 'artifact-sha256', ok: damaged.length === 0, detail: damaged.length ? damaged.join('; ') : `${snapshot.artifacts.length} artifacts` });
    if (damaged.length === 0) {
      checks.push(...(snapshot.facts.mode === 'physical'
        ? await validatePhysicalSnapshot(ctx, snapshot)
        : await validateLogicalSnapshot(ctx, snapshot)));
    }
    return { ok: checks.every((c) => c.ok), checks };
  }
}
