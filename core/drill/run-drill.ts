/**
 * A restore drill of one backup: a scratch target is started (the driver's, or the drill target
 * the caller names), the backup is restored into it through the restore workflow (download,
 * sha256 checks, apply, the driver's restore validation), the target is torn down, and the
 * outcome is recorded next to the backup's manifest (drill-record.ts). The backup itself is only
 * read: a failed drill records why and leaves it as it was.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CatalogEntry } from '../catalog/catalog';
import { writeDrill, type DrillRecord } from '../catalog/drill-record';
import { manifestDigest, type BackupManifest } from '../catalog/manifest';
import { PermanentError, classify, messageWithCode } from '../errors';
import type { Logger } from '../logger';
import type { RestoreReport } from '../restore/restore-state';
import type { BlobStore } from '../store/blob-store';
import type { ScratchTarget, ScratchTargets } from './scratch-target';

export interface DrillOptions {
  store: BlobStore;
  /** Runs a restore (the restore workflow) and resolves with its full report. */
  restore(request: { backupId: string; engine: string; instance: string; target: Record<string, unknown> }): Promise<RestoreReport>;
  /** The driver's scratch targets; used unless `target` is given. */
  scratch?: ScratchTargets;
  /** A drill target to restore into instead of a scratch one (it must be empty). */
  target?: Record<string, unknown>;
  /**
   * Fields set on the scratch target: what its restore and validation need of the instance, such
   * as ZooKeeper's `auth` to read ACL-protected nodes (secrets by reference).
   */
  targetSettings?: Record<string, unknown>;
  /** Where scratch targets live while the drill runs (default: a new folder in the system's temp dir). */
  workRoot?: string;
  logger: Logger;
}

const failedChecks = (report: RestoreReport): string =>
  report.validation.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; ');

/**
 * Drills `entry`; resolves with the record it wrote. A restore that fails or does not validate is
 * a failed drill (recorded, not thrown).
 * @throws PermanentError `DRILL_TARGET_UNAVAILABLE` when no target could be had (nothing is
 *   recorded: the backup was not tried).
 */
export async function drillBackup(entry: CatalogEntry & { manifest: BackupManifest }, options: DrillOptions): Promise<DrillRecord> {
  const drilledAt = new Date();
  const started = Date.now();
  const workDir = await mkdtemp(path.join(options.workRoot ?? os.tmpdir(), `dbbackup-drill-${entry.engine}-`));
  let scratch: ScratchTarget | undefined;
  try {
    try {
      scratch = options.target
        ? { target: options.target, description: 'the drill target given', stop: async () => undefined }
        : await startScratch(entry, options, workDir);
      if (options.targetSettings) scratch = { ...scratch, target: { ...scratch.target, ...options.targetSettings } };
    } catch (error) {
      throw new PermanentError(`no target to drill ${entry.engine}/${entry.instance} into: ${error instanceof Error ? error.message : String(error)}`,
        { code: 'DRILL_TARGET_UNAVAILABLE', engine: entry.engine, cause: error });
    }
    options.logger.info('drill: restoring', { backupId: entry.backupId, engine: entry.engine, instance: entry.instance, into: scratch.description });
    let outcome: Pick<DrillRecord, 'ok' | 'restoreId' | 'restoreDurationMs' | 'bytes' | 'bytesPerSecond' | 'checks' | 'reason'>;
    try {
      const report = await options.restore({ backupId: entry.backupId, engine: entry.engine, instance: entry.instance, target: scratch.target });
      outcome = {
        ok: report.validation.ok,
        restoreId: report.restoreId,
        restoreDurationMs: report.restoreDurationMs,
        bytes: report.bytes,
        bytesPerSecond: Math.round(report.bytes / Math.max(report.restoreDurationMs / 1000, 0.001)),
        checks: report.validation.checks,
        ...(report.validation.ok ? {} : { reason: `the restore did not validate: ${failedChecks(report)}` }),
      };
    } catch (error) {
      outcome = { ok: false, restoreDurationMs: 0, bytes: 0, bytesPerSecond: 0, checks: [], reason: messageWithCode(classify(error, undefined, entry.engine)) };
    }
    const { description } = scratch;
    await scratch.stop().catch((error: unknown) => options.logger.warn('drill: stopping the scratch target failed', { error: String(error) }));
    scratch = undefined;
    const record: DrillRecord = {
      backupId: entry.backupId,
      drilledAt: drilledAt.toISOString(),
      ...outcome,
      drillDurationMs: Date.now() - started,
      target: description,
      manifestSha256: manifestDigest(entry.manifest),
    };
    await writeDrill(options.store, entry.prefix, record);
    return record;
  } finally {
    await scratch?.stop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

async function startScratch(entry: CatalogEntry & { manifest: BackupManifest }, options: DrillOptions, workDir: string): Promise<ScratchTarget> {
  if (!options.scratch) throw new Error(`the ${entry.engine} driver cannot start a scratch target here; give a drill target`);
  return options.scratch.start(workDir, entry.manifest, options.logger);
}
