/**
 * A failed restore's cleanup on the target host (agent step `restore-cleanup`): the driver stops
 * what this restore started (an etcd member, a MariaDB server) and says what the target holds now
 * (RestoreDriver.cleanup), then the restore's run directory — its download spool — is removed.
 * Runs at any point of a restore, any number of times; it never throws for what it finds: a target
 * it could not look at is reported `unknown`, with the reason.
 */
import { z } from 'zod';
import { classify } from '../errors';
import { TARGET_CONDITIONS, type RestoreCleanup, type RestoreProgress } from '../driver/restore-cleanup';
import { releaseRunDir } from '../runs/run-dir';
import { restoreRunDir } from '../runs/spool-layout';
import { parseInput, type StepDeps } from '../steps/step-deps';
import { readPrepared, readResult } from './restore-records';
import { restoreStateSchema, type RestoreState } from './restore-state';
import { restoreContext } from './restore-steps';

/** What the cleanup on the host found and did (the agent's output, checked where it is read). */
export const hostRestoreCleanupSchema = z.object({
  target: z.enum(TARGET_CONDITIONS),
  detail: z.string(),
  stopped: z.array(z.string()),
  /** The download spool: removed, or kept and why (a live attempt still owns it). */
  spool: z.object({ removed: z.boolean(), reason: z.string().optional() }),
});
export type HostRestoreCleanup = z.infer<typeof hostRestoreCleanupSchema>;

export async function cleanupRestoreOnHost(input: unknown, deps: StepDeps): Promise<HostRestoreCleanup> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  const target = await targetAfterFailure(state, deps);
  const spool = await releaseRunDir(restoreRunDir(deps.spoolRoot, state.restoreId), state.restoreId).catch(
    (error: unknown): HostRestoreCleanup['spool'] => ({ removed: false, reason: classify(error).message }),
  );
  deps.logger.info('restore cleaned up after a failure', { restoreId: state.restoreId, target: target.target, stopped: target.stopped, spool });
  return { ...target, spool };
}

/** The driver's account of the target, or what the state alone tells when the driver has none or fails. */
async function targetAfterFailure(state: RestoreState, deps: StepDeps): Promise<RestoreCleanup> {
  // Preparing a target changes nothing, and nothing is started before the restore step.
  if (!state.prepared) return { target: 'untouched', detail: 'the restore failed before it began writing to the target', stopped: [] };
  try {
    const driver = deps.registry.restoreDriver(state.backup.engine);
    const progress = await progressOf(state, deps);
    if (driver.cleanup) return await driver.cleanup(await restoreContext(state, deps, false), progress);
    if (progress.result) return { target: 'restored', detail: 'the restore finished; the failure came after it', stopped: [] };
    return { target: 'unknown', detail: `the ${state.backup.engine} driver cannot tell how far the restore got`, stopped: [] };
  } catch (error) {
    return { target: 'unknown', detail: `could not look at the target: ${classify(error).message}`, stopped: [] };
  }
}

/**
 * How far the restore got, from the records its steps wrote; a finished restore whose record is
 * unreadable still counts as finished, with what the state carries of it (the endpoint's scalars).
 */
async function progressOf(state: RestoreState, deps: StepDeps): Promise<RestoreProgress> {
  const [prepared, result] = await Promise.all([
    state.prepared ? readPrepared(deps.store, state).catch(() => undefined) : undefined,
    state.result ? readResult(deps.store, state).catch(() => state.result) : undefined,
  ]);
  return { prepared, result };
}
