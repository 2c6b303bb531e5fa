/**
 * Runs the restore steps in sequence in this process, each with retry on TransientError.
 * The downloaded spool is removed whatever happens.
 */
import { rm } from 'node:fs/promises';
import { withRetry, type RetryOptions } from '../resilience/retry';
import type { StepDeps } from '../steps/step-deps';
import {
  restoreSpoolDir, fetchRestoreManifest, prepareRestoreTarget, reportRestore, restoreBackup, validateRestoredBackup,
} from './restore-steps';
import type { RestoreState, RestoreSummary } from './restore-state';

export async function runRestore(request: unknown, deps: StepDeps, retry: RetryOptions): Promise<RestoreSummary> {
  const again = <T>(fn: () => Promise<T>) => withRetry(fn, retry);
  let state: RestoreState = await again(() => fetchRestoreManifest(request, deps));
  try {
    state = await again(() => prepareRestoreTarget(state, deps));
    state = await again(() => restoreBackup(state, deps));
    state = await again(() => validateRestoredBackup(state, deps));
    return await again(() => reportRestore(state, deps));
  } finally {
    await rm(restoreSpoolDir(deps.spoolRoot, state.restoreId), { recursive: true, force: true });
  }
}
