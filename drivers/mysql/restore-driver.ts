/**
 * Restore side of the MySQL/MariaDB driver: a logical load into a target server, or a physical
 * restore into a new data dir on this host; then, when asked, a replay of archived binary logs up
 * to a time or GTID. Validation compares every table's rows and digest with the manifest.
 */
import path from 'node:path';
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import type {
  BackupRecord, PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationCheck, ValidationReport,
} from '../../core/driver/types';
import { mysqlEndpoint, type MysqlRestoreTarget } from './config';
import { PermanentError } from '../../core/errors';
import { recordedConsistency, recordedFacts } from './shared/layout';
import { finishAfterReplay, prepareLogicalTarget, releaseAfterValidation, restoreLogical, validateTables } from './logical/logical-restore';
import { markPhysicalRestoreDone, preparePhysicalTarget, restorePhysical } from './physical/physical-restore';
import { cleanupLogicalRestore, cleanupPhysicalRestore } from './restore-cleanup';
import { assertReplayable, pointBeforeBackup, prepareReplay, replayBinlogs, validatePointInTime } from './point-in-time/point-in-time';
import { mysqlScratch } from './scratch';

/**
 * The physical restore starts `mariadbd` and the point-in-time replay speaks MariaDB's GTIDs and
 * client: for a backup of a MySQL server both are refused here, before the target is touched,
 * rather than failing halfway with its data dir already replaced.
 */
function assertRestorableHere(ctx: RestoreContext<MysqlRestoreTarget>): void {
  if (recordedConsistency(ctx.backup).flavor !== 'mysql') return;
  const unsupported = [isPhysical(ctx) ? 'a physical restore' : '', ctx.target.pointInTime ? 'a point-in-time replay' : ''].filter(Boolean);
  if (unsupported.length > 0) {
    throw new PermanentError(
      `backup ${ctx.backup.backupId} is of a MySQL server: ${unsupported.join(' and ')} of MySQL backups is not supported yet (a logical restore is)`,
      { code: 'UNSUPPORTED_RESTORE', engine: 'mysql' },
    );
  }
}

const isPhysical = (ctx: RestoreContext<MysqlRestoreTarget>): boolean => recordedFacts(ctx.backup).mode === 'physical';

export class MysqlRestoreDriver implements RestoreDriver<MysqlRestoreTarget> {
  /** The empty target on this host a restore drill restores into. */
  readonly scratch = mysqlScratch;

  /** The target server's host:port or socket: what the circuit breaker protects. */
  endpoint(target: MysqlRestoreTarget): string {
    return mysqlEndpoint(target);
  }

  /** A forced physical restore replaces the data dir; a logical one replaces databases on a server, no host path. */
  replacedPaths(target: MysqlRestoreTarget): string[] {
    return target.physical ? [path.resolve(target.physical.datadir)] : [];
  }

  /** A forced logical restore drops and reloads databases on the target server. */
  replacedServers(target: MysqlRestoreTarget): string[] {
    return target.physical ? [] : [mysqlEndpoint(target)];
  }

  /** Only a point-in-time replay reads the later backups (their binary logs). */
  readsLaterBackups(target: Partial<MysqlRestoreTarget> | undefined): boolean {
    return target?.pointInTime !== undefined;
  }

  /** `restore latest` to a point in time takes the newest backup taken before the point. */
  passesOver(backup: BackupRecord, target: Partial<MysqlRestoreTarget> | undefined): string | undefined {
    const pit = target?.pointInTime;
    if (!pit) return undefined;
    try {
      return pointBeforeBackup(backup, pit);
    } catch {
      return undefined; // a point that does not parse: the target's parse refuses it, naming it
    }
  }

  async prepareTarget(ctx: RestoreContext<MysqlRestoreTarget>): Promise<PreparedTarget> {
    assertRestorableHere(ctx);
    assertReplayable(ctx);
    return isPhysical(ctx) ? preparePhysicalTarget(ctx) : prepareLogicalTarget(ctx);
  }

  async restore(ctx: RestoreContext<MysqlRestoreTarget>, prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    // The binlogs a replay needs are downloaded and read first: a replay refused leaves the target untouched.
    const replay = ctx.target.pointInTime ? await prepareReplay(ctx, transfer) : undefined;
    const result = isPhysical(ctx) ? await restorePhysical(ctx, prepared, transfer) : await restoreLogical(ctx, prepared, transfer);
    const replayed = replay ? { ...result, endpoint: { ...result.endpoint, replay: await replayBinlogs(ctx, replay) } } : result;
    // Done only now: a data dir whose replay failed is not the restore that was asked for.
    if (isPhysical(ctx)) await markPhysicalRestoreDone(ctx, path.resolve(ctx.target.physical!.datadir));
    // A logical restore's markers are removed once its replay is done (its events, held, are enabled after the validation).
    return replay && !isPhysical(ctx) ? finishAfterReplay(ctx, replayed) : replayed;
  }

  /** After a failed restore: stops the server it started and says what the target holds (restore-cleanup.ts). */
  async cleanup(ctx: RestoreContext<MysqlRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
    return isPhysical(ctx) ? cleanupPhysicalRestore(ctx, progress) : cleanupLogicalRestore(ctx, progress);
  }

  async validateRestore(ctx: RestoreContext<MysqlRestoreTarget>, result: RestoreResult): Promise<ValidationReport> {
    if (isPhysical(ctx) && ctx.target.physical?.start === false) {
      return {
        ok: false,
        checks: [{
          name: 'server-started',
          ok: false,
          detail: 'physical.start is false: the restored data dir was not started, so its tables cannot be proven; start a server on it to validate',
        }],
      };
    }
    const checks = ctx.target.pointInTime ? await validatePointInTime(ctx, result) : await validateTables(ctx, result);
    return { ok: checks.every((c) => c.ok), checks };
  }

  /** A logical restore's events, created held so none ran before it was proven, enabled once it is (a physical restore's own server runs no events). */
  async afterValidation(ctx: RestoreContext<MysqlRestoreTarget>, result: RestoreResult, report: ValidationReport): Promise<ValidationCheck[]> {
    return isPhysical(ctx) ? [] : releaseAfterValidation(ctx, result, report);
  }
}
