/**
 * A backup node's run on its host: the run directory its steps claim (core/runs), the record of
 * its completed snapshot (so a later attempt can continue it), and — for a resumed backup — the
 * snapshot the dead attempt completed, taken over where it lies.
 */
import { rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../errors';
import { resolveInside } from '../io/resolve-inside';
import type { SnapshotRef } from '../driver/types';
import { enterRunDir } from '../runs/enter-run-dir';
import { markResumable, releaseRunDir } from '../runs/run-dir';
import { backupRunDir } from '../runs/spool-layout';
import type { StepDeps } from '../steps/step-deps';
import type { BackupRun, BackupState, NodeState } from './backup-state';
import { RESUME_WINDOW_MS, resumeVerdict } from './resume-plan';
import { readNodeRecord, writeNodeRecord } from './run-records';

/** This attempt (states of older versions have none: the backup id and start stand for it). */
export function attemptOf(state: Pick<BackupState, 'run' | 'backupId' | 'startedAt'>): BackupRun {
  return state.run ?? { id: state.backupId, startedAt: state.startedAt };
}

function runDirOf(state: NodeState, deps: StepDeps): string {
  return backupRunDir(deps.spoolRoot, state.backupId, state.node.name);
}

/** Claims the node's run directory on this host for this attempt (reclaiming dead runs' leftovers); returns its spool. */
export function enterNodeRunDir(state: NodeState, deps: StepDeps): Promise<string> {
  const attempt = attemptOf(state);
  return enterRunDir({
    dir: runDirOf(state, deps),
    kind: 'backup',
    id: state.backupId,
    node: state.node.name,
    engine: state.engine,
    instance: state.instance,
    runId: attempt.id,
    runStartedAt: attempt.startedAt,
    resumes: attempt.resumes,
  }, deps);
}

/**
 * Records the node's completed snapshot in the store and, when the driver says it can be
 * continued by another process, keeps the node's run directory for a resume should this attempt die.
 */
export async function recordSnapshot(state: NodeState, deps: StepDeps, snapshot: SnapshotRef, config: unknown): Promise<void> {
  const attempt = attemptOf(state);
  await writeNodeRecord(deps.store, state.prefix, { formatVersion: 1, node: state.node.name, runId: attempt.id, snapshot });
  if (resumeVerdict(deps.registry.backupDriver(state.engine), config, snapshot).resumable) {
    await markResumable(runDirOf(state, deps), attempt.id, resumableUntil(state));
  }
}

/** Until when a dead attempt's completed snapshot is kept on the host: the backup's resume window. */
function resumableUntil(state: NodeState): Date {
  return new Date(Date.parse(state.startedAt) + RESUME_WINDOW_MS);
}

/**
 * The snapshot a dead attempt completed on this node, now in `spoolDir`: every spooled artifact
 * must still be there at its recorded size (validation then checks its sha256).
 * @throws PermanentError `RESUME_IMPOSSIBLE` when the record or a spooled artifact is gone.
 */
export async function resumedSnapshot(state: NodeState, deps: StepDeps, spoolDir: string): Promise<SnapshotRef> {
  const record = await readNodeRecord(deps.store, state.prefix, state.node.name);
  const impossible = (why: string) => new PermanentError(
    `cannot resume backup ${state.backupId} (node ${state.node.name}): ${why}; this incomplete backup is discarded, and the next run takes a new one`,
    { code: 'RESUME_IMPOSSIBLE', engine: state.engine },
  );
  if (!record) throw impossible('the store holds no record of its completed snapshot');
  for (const artifact of record.snapshot.artifacts) {
    if (artifact.key !== undefined) continue; // in the store: validation reads it there
    const info = await stat(resolveInside(spoolDir, artifact.name)).catch(() => undefined);
    if (info?.size !== artifact.size) {
      throw impossible(`its spooled artifact ${artifact.name} is ${info ? `${info.size} bytes, not ${artifact.size}` : 'missing'} in ${spoolDir} on this host`);
    }
  }
  await markResumable(runDirOf(state, deps), attemptOf(state).id, resumableUntil(state));
  deps.logger.info('snapshot resumed', { backupId: state.backupId, node: state.node.name, previousAttempt: record.runId });
  return { ...(record.snapshot as SnapshotRef), spoolDir };
}

/**
 * Removes the node's run directory when this attempt owns it (or its owner is dead; a live owner's
 * stays), and the backup's directory on this host once its last node's has gone.
 */
export async function releaseNodeRunDir(state: NodeState, deps: StepDeps): Promise<void> {
  const dir = runDirOf(state, deps);
  const released = await releaseRunDir(dir, attemptOf(state).id);
  if (!released.removed) deps.logger.warn('left a run directory another run owns', { dir, reason: released.reason });
  await rmdir(path.dirname(dir)).catch(() => undefined);
}
