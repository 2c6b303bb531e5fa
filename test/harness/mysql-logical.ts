/**
 * A logical backup and restore run step by step with the real driver, for tests that look at what
 * a round trip keeps: the backup is taken by `MysqlBackupDriver` and uploaded to a store, the
 * restore prepares, loads and validates a target server.
 */
import { takeSnapshot } from '../../core/driver/take-snapshot';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../core/logger';
import { LocalDirectoryStore } from '../../core/store/local-directory-store';
import type { BackupContext, BackupRecord, RestoreContext } from '../../core/driver/types';
import { MysqlBackupDriver } from '../../drivers/mysql/backup-driver';
import { mysqlConfigSchema, mysqlRestoreTargetSchema, type MysqlConfig, type MysqlRestoreTarget } from '../../drivers/mysql/config';
import { prepareLogicalTarget, releaseAfterValidation, restoreLogical, validateTables } from '../../drivers/mysql/logical/logical-restore';
import { tempDir } from './test-run';

/** Temporary directories removed by {@link LogicalRoundTrip.cleanup}. */
class TempDirs {
  private readonly dirs: string[] = [];

  async make(label: string): Promise<string> {
    const dir = await tempDir(`lr-${label}`);
    this.dirs.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** Something the driver can connect to: a test server, or its config with changes. */
export interface ServerLike {
  config(): object;
}

export class LogicalRoundTrip {
  private constructor(readonly store: LocalDirectoryStore, private readonly temp: TempDirs) {}

  /** A round trip through a new local-directory store in a temporary directory. */
  static async create(): Promise<LogicalRoundTrip> {
    const temp = new TempDirs();
    return new LogicalRoundTrip(new LocalDirectoryStore(await temp.make('store')), temp);
  }

  tempDir(label: string): Promise<string> {
    return this.temp.make(label);
  }

  /**
   * Takes a logical backup of `database` with the real backup driver and uploads it to the store
   * under `mysql/<instance>/<backupId>/data/default`.
   */
  async backUp(server: ServerLike, database: string, config: Partial<MysqlConfig> = {}, ids: { backupId?: string; instance?: string } = {}): Promise<BackupRecord> {
    const driver = new MysqlBackupDriver();
    const instance = ids.instance ?? 'exact';
    const ctx: BackupContext<MysqlConfig> = {
      backupId: ids.backupId ?? `lr-${Date.now()}`,
      instance,
      logger: silentLogger,
      config: mysqlConfigSchema.parse({ ...server.config(), databases: [database], ...config }),
      node: { name: 'default' },
      spoolDir: path.join(await this.tempDir('dump'), 'spool'),
    };
    const snapshot = await takeSnapshot('mysql', driver, ctx);
    const uploaded = await driver.upload(ctx, snapshot, { store: this.store, prefix: `mysql/${instance}/${ctx.backupId}/data/default` });
    await driver.cleanup(ctx, snapshot);
    return { backupId: ctx.backupId, engine: 'mysql', instance, consistency: snapshot.consistency, facts: snapshot.facts, artifacts: uploaded.artifacts };
  }

  /** The restore context of `backup` into `server` (the target's config with `extra` on top). */
  async restoreContext(server: ServerLike, backup: BackupRecord, extra: Record<string, unknown> = {}, force = false): Promise<RestoreContext<MysqlRestoreTarget>> {
    return {
      backupId: backup.backupId,
      instance: backup.instance,
      logger: silentLogger,
      backup,
      target: mysqlRestoreTargetSchema.parse({ ...server.config(), ...extra }),
      spoolDir: path.join(await this.tempDir('spool'), 'restore'),
      force,
      restoreId: `restore-of-${backup.backupId}`, node: { name: 'default' },
    };
  }

  /** Prepares, restores and validates `backup` into `server`, then lets go of what the restore held (its events), as the validate step does. */
  async restoreInto(server: ServerLike, backup: BackupRecord, extra: Record<string, unknown> = {}, force = false) {
    const ctx = await this.restoreContext(server, backup, extra, force);
    const prepared = await prepareLogicalTarget(ctx);
    const result = await restoreLogical(ctx, prepared, { store: this.store, prefix: '' });
    const validated = await validateTables(ctx, result);
    const checks = [...validated, ...await releaseAfterValidation(ctx, result, { ok: validated.every((c) => c.ok), checks: validated })];
    return { ctx, prepared, result, checks };
  }

  cleanup(): Promise<void> {
    return this.temp.removeAll();
  }
}
