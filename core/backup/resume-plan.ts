/**
 * Whether a new backup run continues the incomplete backup a killed run left (prepare's decision).
 *
 * The candidate is the newest backup of the engine/instance, when it is incomplete and has a run
 * record (run-records.ts). It is continued — same backup id, a new attempt — when:
 * - its attempt is dead: the CLI that ran it is gone (checked by pid and start time on this host),
 *   or its execution's hold ended; an attempt that is alive is never continued (the new run is a
 *   separate backup), and one recorded on another host only with `resume: 'always'`;
 * - it is young enough: `auto` continues backups younger than {@link RESUME_WINDOW_MS}, so a
 *   scheduled run never completes a stale snapshot; `always` (`--resume`) whatever the age;
 * - the instance config is the one it started with, and so are the compression and encryption asked for;
 * - every node completed its snapshot and the driver says it can be continued in another process
 *   (`BackupDriver.resumeVerdict`): a snapshot interrupted half way cannot be re-joined (a logical
 *   dump's read view ended with its connections), so a new backup is taken; nor is one whose
 *   snapshots the driver refuses together (`BackupDriver.checkNodes`: the finalize step would);
 * When it cannot be continued and its attempt is dead for sure, it is discarded from the store at
 * once (its host files are reclaimed by the next step on its host); otherwise it is left for prune.
 * So is a dead attempt's backup when the run is asked never to resume (`--no-resume`): nothing
 * would ever continue it.
 */
import type { BackupDriver, ResumeVerdict, SnapshotRef } from '../driver/types';
import type { NodeRecord } from '../catalog/manifest';
import { deletePrefix, holdsObjects, subfolders } from '../store/blob-store';
import { BACKUPS_ROOT, assertName, folderOfBackup, isBackupId, manifestKey } from '../catalog/layout';
import { judgeHolder } from '../runs/run-holder';
import type { StepDeps } from '../steps/step-deps';
import type { BackupRequest, ResumeOutcome } from './backup-state';
import { configSha256, encodingSha256, readNodeRecord, readRunRecord, type RunRecord } from './run-records';

/** How old an incomplete backup may be for a run to continue it without being asked to. */
export const RESUME_WINDOW_MS = 6 * 3600_000;

export type ResumePlan =
  | { resume: true; record: RunRecord; outcome: ResumeOutcome }
  | { resume: false; outcome?: ResumeOutcome };

/** A driver's verdict, or the default one: a completed snapshot can be continued, an interrupted one cannot. */
export function resumeVerdict(driver: BackupDriver, config: unknown, snapshot: SnapshotRef | undefined): ResumeVerdict {
  if (driver.resumeVerdict) return driver.resumeVerdict(config, snapshot);
  return snapshot
    ? { resumable: true, reason: 'its snapshot completed: it is re-validated and only what the store lacks is uploaded' }
    : { resumable: false, reason: 'it was stopped before its snapshot completed, and a snapshot cannot be continued' };
}

/** Decides (see the module comment); discards a dead, unresumable candidate. */
export async function planResume(
  request: BackupRequest, config: unknown, driver: BackupDriver, deps: StepDeps, now: Date,
): Promise<ResumePlan> {
  const mode = request.resume ?? 'auto';
  const newest = await newestBackup(deps, request.engine, request.instance);
  if (!newest || newest.complete) {
    return mode === 'always' ? { resume: false, outcome: { resumed: false, reason: `nothing to resume: the newest backup of ${request.engine}/${request.instance} is complete` } } : { resume: false };
  }
  const candidate = newest.backupId;
  const not = (reason: string, discarded = false): ResumePlan => ({ resume: false, outcome: { resumed: false, candidate, reason, ...(discarded ? { discarded } : {}) } });
  const record = await readRunRecord(deps.store, newest.prefix);
  if (!record) return mode === 'never' ? { resume: false } : not(`backup ${candidate} is incomplete and has no run record (an older version's, or a finished backup whose manifest is gone): it is not continued, and is left for prune`);

  const verdict = judgeHolder(record.holder, now);
  if (mode === 'never') {
    if (verdict.state !== 'dead') return { resume: false }; // alive, or perhaps: prune's to judge
    await deletePrefix(deps.store, `${newest.prefix}/`);
    deps.logger.info('not resuming (asked never to): the incomplete backup of a dead run is discarded', { backupId: candidate, why: verdict.reason });
    return not(`not resumed (asked never to): backup ${candidate}, whose run died (${verdict.reason}), was discarded`, true);
  }
  if (verdict.state === 'live') return not(`backup ${candidate} is still running (${verdict.reason}); this run is a separate backup`);
  if (verdict.state === 'unknown' && mode !== 'always') return not(`cannot tell whether backup ${candidate} is still running (${verdict.reason}); pass --resume to continue it anyway`);
  const ageMs = now.getTime() - Date.parse(record.startedAt);
  if (mode === 'auto' && ageMs > RESUME_WINDOW_MS) {
    return not(`backup ${candidate} started ${(ageMs / 3600_000).toFixed(1)} h ago, more than the ${RESUME_WINDOW_MS / 3600_000} h within which a backup is continued unasked; pass --resume to continue it`);
  }

  const dead = verdict.state === 'dead';
  const refuse = async (reason: string): Promise<ResumePlan> => {
    if (dead) await deletePrefix(deps.store, `${newest.prefix}/`);
    deps.logger.warn('cannot resume the incomplete backup; starting a new one', { backupId: candidate, reason, discarded: dead });
    return not(`cannot resume backup ${candidate}: ${reason}${dead ? ' (it was discarded)' : ''}`, dead);
  };
  if (record.configSha256 !== configSha256(request.config)) return refuse('the instance config changed since it started');
  if (record.encodingSha256 !== undefined && record.encodingSha256 !== encodingSha256(request)) {
    return refuse('the compression or encryption asked for changed since it started (its artifacts are stored the way it started with)');
  }
  const taken: NodeRecord[] = [];
  for (const node of record.nodes) {
    const snapshot = (await readNodeRecord(deps.store, newest.prefix, node.name))?.snapshot as SnapshotRef | undefined;
    const nodeVerdict = resumeVerdict(driver, config, snapshot);
    if (!nodeVerdict.resumable) return refuse(record.nodes.length === 1 ? nodeVerdict.reason : `node ${node.name}: ${nodeVerdict.reason}`); // (one node: no name to tell it by)
    if (snapshot) taken.push({ node: node.name, consistency: snapshot.consistency, facts: snapshot.facts });
  }
  // Snapshots the finalize step would refuse together are not worth validating again.
  if (taken.length === record.nodes.length) {
    try {
      await driver.checkNodes?.(taken);
    } catch (error) {
      return refuse((error as Error).message);
    }
  }
  deps.logger.info('resuming the incomplete backup of a dead run', { backupId: candidate, previousAttempt: record.run.id, why: verdict.reason });
  return { resume: true, record, outcome: { resumed: true, candidate, reason: `continuing backup ${candidate}, whose run died (${verdict.reason})` } };
}

/**
 * The newest backup of engine/instance (by id, which sorts by time): the newest folder holding
 * objects, from a listing of the instance's folders (not of every object of every backup), and
 * whether it holds a manifest.
 */
async function newestBackup(deps: StepDeps, engine: string, instance: string): Promise<{ backupId: string; prefix: string; complete: boolean } | undefined> {
  assertName('engine', engine);
  assertName('instance', instance);
  const ids = (await subfolders(deps.store, `${BACKUPS_ROOT}/${engine}/${instance}/`)).filter(isBackupId); // not a folder put there by hand
  for (const backupId of ids.reverse()) {
    const prefix = folderOfBackup({ engine, instance, backupId });
    // A manifest says enough (a listing of a 1 000-table backup's objects is 1 000 of them).
    if (await deps.store.head(manifestKey(prefix))) return { backupId, prefix, complete: true };
    if (!(await holdsObjects(deps.store, `${prefix}/`))) continue; // an empty folder, or a killed write's temporary file only
    return { backupId, prefix, complete: false };
  }
  return undefined;
}
