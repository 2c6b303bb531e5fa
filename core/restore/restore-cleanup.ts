/**
 * A failed restore's cleanup on one node's host (agent step `restore-cleanup`): the driver stops
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
import type { NodeRef } from '../driver/types';
import type { StepDeps } from '../steps/step-deps';
import { findNodeResult, findPrepared } from './restore-records';
import type { RestoreState } from './restore-state';
import { parseNodeInput, restoreContext } from './restore-steps';

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
  const { restore: state, node } = parseNodeInput(input);
  const target = await targetAfterFailure(state, node, deps);
  const spool = await releaseRunDir(restoreRunDir(deps.spoolRoot, state.restoreId, node.name), state.restoreId).catch(
    (error: unknown): HostRestoreCleanup['spool'] => ({ removed: false, reason: classify(error).message }),
  );
  deps.logger.info('restore cleaned up after a failure', { restoreId: state.restoreId, node: node.name, target: target.target, stopped: target.stopped, spool });
  return { ...target, spool };
}

/** The driver's account of the node's part of the target, or what the records alone tell when the driver has none or fails. */
async function targetAfterFailure(state: RestoreState, node: NodeRef, deps: StepDeps): Promise<RestoreCleanup> {
  try {
    const at = { ...state, node };
    // Preparing a target changes nothing, nor does staging, and nothing is written before the apply step.
    const prepared = await findPrepared(deps.store, at);
    if (!prepared) return { target: 'untouched', detail: 'the restore failed before it began writing to the target', stopped: [] };
    const progress: RestoreProgress = { prepared, result: await findNodeResult(deps.store, at).catch(() => undefined) };
    const driver = deps.registry.restoreDriver(state.backup.engine);
    if (driver.cleanup) return await driver.cleanup(await restoreContext(state, node, deps, false), progress);
    if (progress.result) return { target: 'restored', detail: 'the restore finished; the failure came after it', stopped: [] };
    return { target: 'unknown', detail: `the ${state.backup.engine} driver cannot tell how far the restore got`, stopped: [] };
  } catch (error) {
    return { target: 'unknown', detail: `could not look at the target: ${classify(error).message}`, stopped: [] };
  }
}
