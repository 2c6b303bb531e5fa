/**
 * Backup step 6, on the success and the failure path: remove every node's spool (on each node's
 * host) and engine-side snapshot state. On the failure path (`error` in the input) it also deletes
 * what the incomplete backup left in the store and counts the failure. Cleanup is short, so it
 * waits for each host command here rather than in a loop.
 */
import { discardIncompleteBackup, parseBackupState, nodeState } from '../../core/backup/backup-steps';
import type { NodeState } from '../../core/backup/backup-state';
import { hostRunnerWait } from '../shared/host-wait';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { METRIC, MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

const CLEANUP_TIMEOUT_SECONDS = 300;

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('backup-cleanup', provider, async function cleanup(event, { hostRunner, runtime }) {
    const state = parseBackupState(event);
    const results = ((event as { nodeResults?: NodeState[] }).nodeResults ?? []);
    const cleaned: string[] = [];
    for (const node of state.nodes) {
      const known = results.find((r) => r.node?.name === node.name);
      const input = { ...nodeState(state, node), ...(known?.snapshot ? { snapshot: known.snapshot, spoolDir: known.spoolDir } : {}) };
      await hostRunnerWait(hostRunner, { host: node.host, step: 'backup-cleanup', input, timeoutSeconds: CLEANUP_TIMEOUT_SECONDS });
      cleaned.push(node.name);
    }
    const failed = (event as { error?: unknown }).error !== undefined;
    let discarded = 0;
    if (failed) {
      discarded = await discardIncompleteBackup(state, runtime.deps);
      publish(state.engine, state.instance, [[METRIC.backupFailed, MetricUnit.Count, 1]]);
    }
    return { cleaned, failed, discarded };
  });

export const handler = createHandler(lambdaRuntime);
