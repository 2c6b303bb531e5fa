/**
 * Runs the backup steps in this process, node after node, each step with retry on TransientError
 * and cleanup on both the success and the failure path. The state machines run the very same step
 * functions; this runner is for embedding and for testing the steps themselves.
 */
import { withRetry, type RetryOptions } from '../resilience/retry';
import type { StepDeps } from '../steps/step-deps';
import {
  cleanupNode, finalizeBackup, nodeState, prepareBackup, snapshotNode, uploadNode, validateNode,
} from './backup-steps';
import type { BackupState, BackupSummary, NodeState } from './backup-state';

export async function runBackup(request: unknown, deps: StepDeps, retry: RetryOptions): Promise<BackupSummary> {
  const again = <T>(fn: () => Promise<T>) => withRetry(fn, retry);
  const state: BackupState = await again(() => prepareBackup(request, deps));
  const started = state.nodes.map((node) => nodeState(state, node));
  try {
    const nodeResults: NodeState[] = [];
    for (const initial of started) {
      let node = await again(() => snapshotNode(initial, deps));
      node = await again(() => validateNode(node, deps));
      node = await again(() => uploadNode(node, deps));
      nodeResults.push(node);
    }
    return await again(() => finalizeBackup({ ...state, nodeResults }, deps));
  } finally {
    for (const node of started) {
      await again(() => cleanupNode(node, deps)).catch(function reportCleanupFailure(error: unknown) {
        deps.logger.warn('cleanup failed; the spool may need removing by hand', { backupId: state.backupId, node: node.node.name, error: String(error) });
      });
    }
  }
}
