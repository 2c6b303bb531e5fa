/**
 * Restore failure path: on every node's host at once, stop what the restore started, remove its download
 * spool and find out what the target holds; record the failure; return the cause the execution
 * fails with (the original error, then the target's state). The failure metric goes first, so no
 * later trouble can keep it from being counted. Cleanup is short, so it waits for the host command
 * here rather than in a loop.
 */
import { settleFailedRestore } from '../../core/restore/failed-restore';
import { restoredInstance } from '../../core/restore/restore-state';
import { hostRunnerWait } from '../shared/host-wait';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { METRIC, MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

const CLEANUP_TIMEOUT_SECONDS = 300;

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('restore-cleanup', provider, async function cleanupAfterFailure(event, { hostRunner, runtime }) {
    const { engine, instance } = restoredInstance(event);
    if (engine && instance) publish(engine, instance, [[METRIC.restoreFailed, MetricUnit.Count, 1]]);
    return settleFailedRestore(event, runtime.deps, (node, input) =>
      hostRunnerWait(hostRunner, { host: node.host, step: 'restore-cleanup', input, timeoutSeconds: CLEANUP_TIMEOUT_SECONDS }));
  });

export const handler = createHandler(lambdaRuntime);
