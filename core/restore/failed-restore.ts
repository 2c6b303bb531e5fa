/**
 * The restore state machine's failure path (the cleanup function, after any failed step): the
 * target host cleans up (restore-cleanup.ts: what the restore started is stopped, the download
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
 * const outcome = await settleFailedRestore(event, deps, (state) => hostRunnerWait(runner, { step: 'restore-cleanup', input: state, ... }));
 * // outcome.cause: 'CHECKSUM_MISMATCH: … — target untouched: /srv/etcd was not written to and keeps its previous contents'
 * ```
 */
import { classify } from '../errors';
import type { TargetCondition } from '../driver/restore-cleanup';
import { caughtError } from '../steps/failure-cause';
import type { StepDeps } from '../steps/step-deps';
import { putStepRecord } from '../steps/step-records';
import { hostRestoreCleanupSchema, type HostRestoreCleanup } from './restore-cleanup';
import { removeIntermediateRecords, restoreRecordKey } from './restore-records';
import { restoreIdentity, restoreStateSchema, type RestoreState } from './restore-state';

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

/** Runs the host's cleanup step for `state` and returns its output. */
export type HostCleanup = (state: RestoreState) => Promise<unknown>;

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
  const host = await cleanOnHost(state as RestoreState).then(
    (output) => hostRestoreCleanupSchema.parse(output),
    (failure: unknown): HostRestoreCleanup => {
      const reason = classify(failure).message;
      deps.logger.error('the restore cleanup on the host failed', { restoreId: state.restoreId, error: reason });
      return { target: 'unknown', detail: `the cleanup on the host failed (${reason}); what the restore started may still run and its spool may remain`, stopped: [], spool: { removed: false, reason } };
    },
  );
  await removeIntermediateRecords(deps.store, state).catch((failure: unknown) => {
    deps.logger.warn('could not remove the failed restore\'s step records', { restoreId: state.restoreId, error: classify(failure).message });
  });
  const failureKey = await recordFailure(state, error, host, deps);
  return { ...host, ...(failureKey ? { failureKey } : {}), cause: causeWithTarget(error.message, host.target, host.detail) };
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
