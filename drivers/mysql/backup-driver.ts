/**
 * Backup side of the MySQL/MariaDB driver: a logical dump (network) or a physical copy
 * (mariabackup/xtrabackup on the host), optionally with the binary logs archived for
 * point-in-time recovery. Upload and cleanup are the shared spool ones.
 */
import { ArtifactReader, artifactSink } from '../../core/driver/artifact-sink';
import { SpoolBackupDriver } from '../../core/driver/spool-backup-driver';
import type { BackupContext, JsonObject, ResumeVerdict, SnapshotRef, SnapshotTaken, ValidationReport } from '../../core/driver/types';
import { mysqlEndpoint, type MysqlConfig } from './config';
import type { MysqlFacts } from './shared/layout';
import { notReadBackVerdict } from './logical/chunks-as-written';
import { takeLogicalSnapshot, validateLogicalSnapshot } from './logical/logical-backup';
import { takePhysicalSnapshot, validatePhysicalSnapshot } from './physical/physical-backup';
import { archiveBinlogs } from './point-in-time/binlog-archive';
import { DIGEST_ALGORITHM } from './shared/table-digest';
import { VALUE_ENCODING } from './shared/column-codec';

export class MysqlBackupDriver extends SpoolBackupDriver<MysqlConfig> {
  /** The server's host:port or socket: what the circuit breaker protects. */
  endpoint(config: MysqlConfig): string {
    return mysqlEndpoint(config);
  }

  async createSnapshot(ctx: BackupContext<MysqlConfig>): Promise<SnapshotTaken> {
    const sink = artifactSink(ctx, ctx.config.streamToStore);
    await sink.clear();
    const taken = ctx.config.mode === 'physical' ? await takePhysicalSnapshot(ctx, sink) : await takeLogicalSnapshot(ctx, sink);
    const artifacts = [...taken.artifacts];
    const facts: MysqlFacts = { ...taken.facts, digestAlgorithm: DIGEST_ALGORITHM, valueEncoding: VALUE_ENCODING };
    if (ctx.config.archiveBinlogs) {
      const archived = await archiveBinlogs(ctx, taken.consistency, sink);
      artifacts.push(...archived.artifacts);
      facts.binlogs = archived.binlogs;
      // How far the archive reaches, so point-in-time restores can tell a covered target time.
      facts.binlogArchive = { archivedAt: archived.archivedAt, end: archived.end, created: archived.created };
    }
    return { artifacts, consistency: taken.consistency as unknown as JsonObject, facts: facts as unknown as JsonObject };
  }

  /**
   * A completed snapshot (dump chunks or xbstream, in the store or the spool) needs nothing of the
   * process that took it: a later one re-validates it and uploads what the store lacks. One that was
   * interrupted cannot be continued: a logical dump's read view ended with its connections, and the
   * backup tool's stream with the tool.
   */
  resumeVerdict(config: MysqlConfig, snapshot: SnapshotRef | undefined): ResumeVerdict {
    if (snapshot) {
      return notReadBackVerdict(snapshot) ?? { resumable: true, reason: 'its snapshot completed: its artifacts are re-validated where they are, and only what the store lacks is uploaded' };
    }
    return config.mode === 'physical'
      ? { resumable: false, reason: "the backup tool's stream ended with the killed run and cannot be continued: a new snapshot is needed" }
      : { resumable: false, reason: "a logical dump's consistent read view ended with its connections, so the tables cannot be read at the same point again: a new snapshot is needed" };
  }

  async validateSnapshot(ctx: BackupContext<MysqlConfig>, snapshot: SnapshotRef): Promise<ValidationReport> {
    // One read of every artifact, where it was written: the content checks below read through the
    // reader, which checks each artifact's sha256 on the way; the rest are hashed at the end.
    const reader = new ArtifactReader(snapshot.spoolDir, ctx.destination?.store);
    const checks = snapshot.facts.mode === 'physical'
      ? await validatePhysicalSnapshot(ctx, snapshot, reader)
      : await validateLogicalSnapshot(snapshot, reader);
    const damaged = await reader.verifyUnread(snapshot.artifacts);
    checks.unshift({ name: 'artifact-sha256', ok: damaged.length === 0, detail: damaged.length ? damaged.join('; ') : `${snapshot.artifacts.length} artifacts` });
    return { ok: checks.every((c) => c.ok), checks };
  }
}
