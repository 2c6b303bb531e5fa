/**
 * The base of an incremental backup: which backup it extends (decided by prepare), and that
 * backup's record for the driver (read by the snapshot step), checked to be the very one prepare
 * chose.
 *
 * A request `incremental: true` of a driver with the `incremental` capability extends the newest
 * verified backup of its instance, when that backup's records check against the driver's record
 * schemas and its own chain holds (catalog/backup-chain.ts). Otherwise the backup becomes a full
 * one and the outcome says why, as pgBackRest turns an incr backup with no prior backup into a full
 * one: a scheduled incremental then starts a new chain instead of failing night after night. A
 * resumed backup keeps the base it started with (its run record's), whatever the new request says:
 * its snapshots were taken against that base.
 */
import { PermanentError } from '../errors';
import { Catalog, isVerified } from '../catalog/catalog';
import { MAX_CHAIN_LINKS, resolveChain, type CompleteEntry } from '../catalog/backup-chain';
import { backupRecordOf, checkManifestRecords } from '../catalog/backup-record';
import { backupPrefix, manifestKey } from '../catalog/layout';
import { manifestDigest, parseManifest, type BackupManifest } from '../catalog/manifest';
import type { BackupRecord } from '../driver/types';
import { readJson } from '../store/json';
import type { StepDeps } from '../steps/step-deps';
import type { BackupState, BaseRef, IncrementalOutcome } from './backup-state';
import type { RunRecord } from './run-records';

/** What prepare puts in the state: the base (absent: a full backup), and what to tell the user. */
export interface BasePlan {
  base?: BaseRef;
  outcome?: IncrementalOutcome;
}

/**
 * Refuses an incremental request for an engine whose driver cannot take one, before anything is
 * read or written. @throws PermanentError `INCREMENTAL_UNSUPPORTED` naming the engine.
 */
export function assertIncrementalSupported(engine: string, deps: StepDeps): void {
  const { capabilities } = deps.registry.manifest(engine);
  if (!capabilities.includes('incremental')) {
    throw new PermanentError(
      `engine '${engine}' does not take incremental backups (capabilities: ${capabilities.join(', ') || 'none'}); request a full backup`,
      { code: 'INCREMENTAL_UNSUPPORTED', engine },
    );
  }
}

/** The base of a new incremental backup of engine/instance (see the module comment). */
export async function chooseBase(engine: string, instance: string, deps: StepDeps): Promise<BasePlan> {
  const scope = `${engine}/${instance}`;
  const full = (reason: string): BasePlan => {
    deps.logger.warn('incremental backup requested; taking a full backup', { engine, instance, reason });
    return { outcome: { requested: true, reason } };
  };
  const entries = await new Catalog(deps.store).list({ engine, instance });
  const newest = entries.find(isVerified) as CompleteEntry | undefined;
  if (!newest) return full(`no verified backup of ${scope} yet: taking a full backup`);
  let links: number;
  try {
    checkManifestRecords(deps.registry, newest.manifest, manifestKey(newest.prefix));
    links = resolveChain(newest, entries).length + 1;
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    return full(`the newest verified backup of ${scope}, ${newest.backupId}, cannot be extended (${error.message}): taking a full backup`);
  }
  if (links >= MAX_CHAIN_LINKS) {
    return full(`the newest verified backup of ${scope}, ${newest.backupId}, ends a chain of ${links} backups, the most one may hold: taking a full backup`);
  }
  return {
    base: { backupId: newest.backupId, manifestSha256: manifestDigest(newest.manifest) },
    outcome: { requested: true, base: newest.backupId, reason: `extends ${newest.backupId}, the newest verified backup of ${scope}` },
  };
}

/** The base of a resumed backup: the one it started with. */
export function resumedBase(record: RunRecord, requested: boolean): BasePlan {
  if (record.base) {
    return { base: record.base, outcome: { requested, base: record.base.backupId, reason: `continues backup ${record.backupId}, which extends ${record.base.backupId}` } };
  }
  return requested ? { outcome: { requested, reason: `continues backup ${record.backupId}, which was started as a full backup` } } : {};
}

/**
 * The record of the backup `state` extends (undefined for a full backup), read from the store and
 * checked to be the one prepare chose: the state names it by the digest of its manifest.
 * @throws PermanentError `BASE_NOT_FOUND` when its manifest is gone, `BASE_CHANGED` when the
 *   manifest there is another (or no longer readable).
 */
export async function readBase(state: Pick<BackupState, 'backupId' | 'engine' | 'instance' | 'base'>, deps: StepDeps): Promise<BackupRecord | undefined> {
  const { base } = state;
  if (!base) return undefined;
  const key = manifestKey(backupPrefix(state.engine, state.instance, base.backupId));
  const changed = (why: string) => new PermanentError(`backup ${state.backupId} extends ${base.backupId}, whose manifest ${key} ${why}`, { code: 'BASE_CHANGED', engine: state.engine });
  let manifest: BackupManifest | undefined;
  try {
    const value = await readJson(deps.store, key);
    manifest = value === undefined ? undefined : parseManifest(value, key);
  } catch (error) {
    throw error instanceof PermanentError ? changed(`is no longer readable (${error.message})`) : error;
  }
  if (!manifest) {
    throw new PermanentError(`backup ${state.backupId} extends ${base.backupId}, whose manifest is gone (${key})`, { code: 'BASE_NOT_FOUND', engine: state.engine });
  }
  const digest = manifestDigest(manifest);
  if (digest !== base.manifestSha256) throw changed(`changed since the backup started (sha256 ${base.manifestSha256} expected, ${digest} found)`);
  return backupRecordOf(manifest);
}
