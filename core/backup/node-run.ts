/** A backup node's run on its host: the run directory its steps claim (core/runs). */
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import { enterRunDir } from '../runs/enter-run-dir';
import { releaseRunDir } from '../runs/run-dir';
import { backupRunDir } from '../runs/spool-layout';
import type { StepDeps } from '../steps/step-deps';
import type { BackupRun, BackupState, NodeState } from './backup-state';

/** This attempt (states of older versions have none: the backup id and start stand for it). */
export function attemptOf(state: BackupState): BackupRun {
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
  }, deps);
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
