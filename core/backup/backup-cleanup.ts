/**
 * The backup's last step, on the success and the failure path: every node's spool and engine-side
 * snapshot state is removed on its host, and after a failure the incomplete backup is discarded
 * from the store. Each part is done whatever became of the others — one node whose cleanup fails
 * does not keep the other nodes or the discard from running — and what failed is reported, not
 * thrown: after a completed backup a spool left on a host must not fail the execution, and after a
 * failed one the original error is what the execution fails with. What is left behind is reclaimed
 * by the next run on that host and by prune (core/runs/leftovers.ts).
 */
import { classify } from '../errors';
import type { NodeRef } from '../driver/types';
import type { StepDeps } from '../steps/step-deps';
import { caughtError } from '../steps/failure-cause';
import { discardIncompleteBackup, nodeState, parseBackupState } from './backup-steps';
import type { NodeState } from './backup-state';

/** What the cleanup did. */
export interface BackupCleanup {
  /** Nodes cleaned. */
  cleaned: string[];
  /** Nodes whose cleanup failed, with the error; every other node was still cleaned. */
  failedNodes: Array<{ node: string; error: string }>;
  /** True on the failure path. */
  failed: boolean;
  /** Objects of the incomplete backup deleted from the store (failure path). */
  discarded: number;
  /** Why the incomplete backup could not be discarded (prune removes it later). */
  discardError?: string;
}

/** Runs the host's cleanup step for one node. */
export type NodeCleanup = (node: NodeRef, input: NodeState) => Promise<unknown>;

export async function cleanupBackup(event: unknown, deps: StepDeps, cleanNode: NodeCleanup): Promise<BackupCleanup> {
  const failed = caughtError(event) !== undefined;
  const none: BackupCleanup = { cleaned: [], failedNodes: [], failed, discarded: 0 };
  // Prepare failed: no backup id, no node, nothing stored.
  if (!event || typeof event !== 'object' || !('backupId' in event)) return none;
  // The hosts get the state without what the failure path added: the error's Cause may be long.
  const { error: _error, nodeResults, ...backup } = event as Record<string, unknown> & { nodeResults?: NodeState[] };
  const state = parseBackupState(backup);
  const settled = await Promise.allSettled(state.nodes.map(async function cleanOneNode(node) {
    const known = nodeResults?.find((r) => r.node?.name === node.name);
    const input = { ...nodeState(state, node), ...(known?.snapshot ? { snapshot: known.snapshot, spoolDir: known.spoolDir } : {}) };
    await cleanNode(node, input);
    return node.name;
  }));
  const result: BackupCleanup = { ...none };
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') result.cleaned.push(outcome.value);
    else result.failedNodes.push({ node: state.nodes[i].name, error: classify(outcome.reason).message });
  });
  if (result.failedNodes.length > 0) {
    deps.logger.warn('some nodes could not be cleaned up; their spool is reclaimed by the next run on their host', { backupId: state.backupId, failedNodes: result.failedNodes });
  }
  if (failed) {
    try {
      result.discarded = await discardIncompleteBackup(state, deps);
    } catch (error) {
      result.discardError = classify(error).message;
      deps.logger.error('could not discard the incomplete backup; prune removes it', { backupId: state.backupId, error: result.discardError });
    }
  }
  return result;
}
