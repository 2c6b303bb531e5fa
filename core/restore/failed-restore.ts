/**
 * The restore state machine's failure path (the cleanup function, after any failed step): every
 * node's host cleans up, all at once (restore-cleanup.ts: what the restore started is stopped, the download
 * spool removed, the target's state found out), the records only the steps needed go, and the
 * failure is recorded with what the target holds (`failure.json`, restore-records.ts). Its `cause`
 * is what the execution fails with: the original error's message, then the target's state, so an
 * operator always reads whether the target's old data is still there.
 *
 * It never throws for what the cleanup meets: a host that cannot be reached makes the target
 * `unknown`, and says why.
 *
 * @example
 * ```ts
 * const outcome = await settleFailedRestore(event, deps, (node, input) => hostRunnerWait(runner, { host: node.host, step: 'restore-cleanup', input, ... }));
 * // outcome.cause: 'CHECKSUM_MISMATCH: … — target untouched: /srv/etcd was not written to and keeps its previous contents'
 * ```
 */
import { classify, fromNameAndMessage, type ClassifiedError } from '../errors';
import type { TargetCondition } from '../driver/restore-cleanup';
import { caughtError } from '../steps/failure-cause';
import { readJson } from '../store/json';
import { parseManifest } from '../catalog/manifest';
import { backupPrefix, manifestKey, parseBackupKey } from '../catalog/layout';
import { recordFoundDamage } from '../catalog/verification';
import type { StepDeps } from '../steps/step-deps';
import { putStepRecord } from '../steps/step-records';
import { hostRestoreCleanupSchema, type HostRestoreCleanup } from './restore-cleanup';
import { readBackupList, removeIntermediateRecords, restoreRecordKey, type BackupList } from './restore-records';
import { restoreIdentity, restoreStateSchema, type RestoreNodeInput, type RestoreState } from './restore-state';
import type { NodeRef } from '../driver/types';

/** What the failure path found and did; `cause` is the execution's failure cause. */
export interface FailedRestore {
  target: TargetCondition;
  detail: string;
  stopped: string[];
  /** The download spool on the host; absent when the restore failed before it had one. */
  spool?: HostRestoreCleanup['spool'];
  /** Store key of the failure record, when it could be written. */
  failureKey?: string;
  cause: string;
}

/** Runs the cleanup step on `node`'s host (its input: `{ restore, node }`) and returns its output. */
export type HostCleanup = (node: NodeRef, input: RestoreNodeInput) => Promise<unknown>;

export async function settleFailedRestore(event: unknown, deps: StepDeps, cleanOnHost: HostCleanup): Promise<FailedRestore> {
  const error = caughtError(event) ?? { name: 'Error', message: 'the restore failed' };
  const parsed = restoreStateSchema.safeParse(event);
  if (!parsed.success) {
    // Fetch manifest failed: the restore never began (no restore id, nothing on any host), which
    // its error says by itself; the cause stays the error's own.
    return { target: 'untouched', detail: 'the restore failed before it began, so nothing was written to the target', stopped: [], cause: error.message };
  }
  // The host gets the state without the error: its Cause may be long, and SSM's command line is not.
  const { error: _caught, ...state } = parsed.data;
  const restore = state as RestoreState;
  const host = combined(restore.nodes, await Promise.all(restore.nodes.map((node) => cleanOnHost(node, { restore, node }).then(
    (output) => hostRestoreCleanupSchema.parse(output),
    (failure: unknown): HostRestoreCleanup => {
      const reason = classify(failure).message;
      deps.logger.error('the restore cleanup on the host failed', { restoreId: state.restoreId, node: node.name, error: reason });
      return { target: 'unknown', detail: `the cleanup on the host failed (${reason}); what the restore started may still run and its spool may remain`, stopped: [], spool: { removed: false, reason } };
    },
  ))));
  const others = await otherBackupsRead(restore, deps); // before their records go
  await removeIntermediateRecords(deps.store, state).catch((failure: unknown) => {
    deps.logger.warn('could not remove the failed restore\'s step records', { restoreId: state.restoreId, error: classify(failure).message });
  });
  const failureKey = await recordFailure(state, error, host, deps);
  const caught = fromNameAndMessage(error.name, error.message);
  const damaged = await recordDamage(caught, restore, others, deps);
  return { ...host, ...(failureKey ? { failureKey } : {}), cause: causeWithTarget(error.message, host.target, host.detail) + damagedHint(caught, restore, others, damaged) + notTheNewest(restore) };
}

/** For `latest` that took an older backup than the newest: which one it took, and the newest passed over and why (a failed restore tells it too). */
function notTheNewest(restore: RestoreState): string {
  const [newest, ...more] = restore.backup.passedOver ?? [];
  if (!newest) return '';
  return ` — latest was backup ${restore.backup.backupId}, not the newest: ${newest.backupId} ${newest.why}${more.length > 0 ? ` (and ${more.length} more passed over)` : ''}`;
}

/** Errors of a download that found an artifact's bytes changed in the store: the backup is damaged, whatever the target. */
const CONTENT_DAMAGE = new Set(['CHECKSUM_MISMATCH', 'SEALED_ARTIFACT_DAMAGED']);

/**
 * The backups a restore reads besides the one restored, as its fetch manifest step pinned them
 * (restore-records.ts, by sha256: a host cannot change them): the ones an incremental backup extends,
 * and the later ones whose archived binary logs a point-in-time replay reads. Empty lists when it
 * read none, or their records cannot be read.
 */
async function otherBackupsRead(restore: RestoreState, deps: StepDeps): Promise<OtherBackups> {
  const read = async (list: BackupList, pinned: { sha256: string } | undefined) => (pinned ? (await readBackupList(deps.store, restore, list, pinned.sha256)).map((b) => b.backupId) : []);
  try {
    return { bases: await read('bases', restore.bases), later: await read('chain', restore.chain) };
  } catch (failure) {
    deps.logger.warn('could not read which backups the failed restore read', { restoreId: restore.restoreId, error: classify(failure).message });
    return { bases: [], later: [] };
  }
}

interface OtherBackups {
  bases: string[];
  later: string[];
}

/**
 * A restore (not a drill: its own record says so, and it leaves the backup's records as they were)
 * that found an artifact's bytes changed (`CHECKSUM_MISMATCH`, naming it) records the damage as
 * `verify` would (verification.ts `recordFoundDamage`), on the backup the artifact belongs to: the
 * one restored, or another it read (a base it extends, a later one whose binary logs it replays)
 * that the message names — so an intact backup is never taken for the damaged one. The backup and
 * artifact recorded, or undefined (another error, none of its artifacts named, or the store
 * refused: the cause then says what to do).
 */
async function recordDamage({ code, message }: ClassifiedError, restore: RestoreState, others: OtherBackups, deps: StepDeps): Promise<Damage | undefined> {
  if (code !== 'CHECKSUM_MISMATCH' || restore.drill !== undefined) return undefined;
  const backupId = otherBackupNamed(message, restore, others) ?? restore.backup.backupId;
  try {
    const prefix = backupPrefix(restore.backup.engine, restore.backup.instance, backupId);
    const key = backupId === restore.backup.backupId ? restore.manifestKey : manifestKey(prefix);
    const value = await readJson(deps.store, key);
    if (value === undefined) return undefined;
    const manifest = parseManifest(value, key);
    const artifact = await recordFoundDamage(deps.store, backupPrefix(manifest.engine, manifest.instance, manifest.backupId), manifest, message, `restore ${restore.restoreId}`);
    return artifact === undefined ? undefined : { backupId: manifest.backupId, artifact };
  } catch (failure) {
    deps.logger.warn('could not record the damage the restore found', { restoreId: restore.restoreId, backupId, error: classify(failure).message });
    return undefined;
  }
}

/** The backup and artifact a restore found damaged. */
interface Damage {
  backupId: string;
  artifact: string;
}

/**
 * Of the other backups the restore read ({@link otherBackupsRead}), the one the message names as
 * the damaged artifact's — by name (`artifact <backup id>/…`: how a restore names the artifacts of
 * a chain) or by object key (`object backups/<engine>/<instance>/<backup id>/…`); undefined when it
 * names none of them.
 */
function otherBackupNamed(message: string, restore: RestoreState, others: OtherBackups): string | undefined {
  const read = new Set([...others.bases, ...others.later]);
  const byName = [...message.matchAll(/\bartifact ([^/\s]+)\//g)].map((m) => m[1]);
  const byKey = [...message.matchAll(/\bobject (\S+) /g)].map((m) => parseBackupKey(m[1])?.backupId);
  return [...byName, ...byKey].find((id): id is string => id !== undefined && id !== restore.backup.backupId && read.has(id));
}

/**
 * For a restore that found a backup's bytes damaged: that it was recorded CORRUPT (`restore
 * latest` passes over it now), or what to do so the next `restore latest` does not take it again
 * (the damage is found only by reading it: its sizes are right). When the damaged backup is another
 * one the restore read, it says which and why it was read: the one restored is intact.
 */
function damagedHint(error: ClassifiedError, restore: RestoreState, others: OtherBackups, recorded: Damage | undefined): string {
  if (!CONTENT_DAMAGE.has(error.code)) return '';
  const id = recorded?.backupId ?? otherBackupNamed(error.message, restore, others) ?? restore.backup.backupId;
  const which = id === restore.backup.backupId
    ? `backup ${id}`
    : others.bases.includes(id)
      ? `backup ${id}, which backup ${restore.backup.backupId} extends,`
      : `backup ${id}, whose archived binary logs the replay reads,`;
  return recorded
    ? ` — ${which} is damaged (${recorded.artifact}): recorded CORRUPT, so \`restore latest\` passes over it to the newest intact backup (\`dbbackup verify ${id}\` checks every artifact again)`
    : ` — ${which} is damaged: \`dbbackup verify ${id}\` records it CORRUPT, and \`restore latest\` then passes over it to the newest intact backup`;
}

/**
 * The nodes' accounts as one: a single node's is its own; several nodes' target is theirs when
 * they agree, `unknown` when one could not tell, `partial` when they differ (an ensemble restored
 * on some hosts and not on others), each node's detail named.
 */
function combined(nodes: readonly NodeRef[], cleanups: HostRestoreCleanup[]): HostRestoreCleanup {
  if (cleanups.length === 1) return cleanups[0];
  const conditions = new Set(cleanups.map((c) => c.target));
  const target = conditions.size === 1 ? cleanups[0].target : conditions.has('unknown') ? 'unknown' : 'partial';
  const kept = cleanups.flatMap((c, i) => (c.spool.removed ? [] : [`node ${nodes[i].name}: ${c.spool.reason ?? 'kept'}`]));
  return {
    target,
    detail: cleanups.map((c, i) => `node ${nodes[i].name}: ${c.detail}`).join('; '),
    stopped: cleanups.flatMap((c) => c.stopped),
    spool: kept.length === 0 ? { removed: true } : { removed: false, reason: kept.join('; ') },
  };
}

/** The original message, then what the target holds. */
function causeWithTarget(message: string, target: TargetCondition, detail: string): string {
  return `${message} — target ${target}: ${detail}`;
}

/** Writes `failure.json`; returns its key, or undefined when the store refused (the cause still says it all). */
async function recordFailure(state: RestoreState, error: { name: string; message: string }, host: HostRestoreCleanup, deps: StepDeps): Promise<string | undefined> {
  const key = restoreRecordKey(state, 'failure');
  const record = {
    ...restoreIdentity(state),
    failedAt: new Date().toISOString(),
    error,
    ...host,
  };
  return putStepRecord(deps.store, key, record).catch((failure: unknown) => {
    deps.logger.warn('could not record the failed restore', { restoreId: state.restoreId, key, error: classify(failure).message });
    return undefined;
  });
}
