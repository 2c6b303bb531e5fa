/**
 * Restore failure path: on every node's host at once, stop what the restore started, remove its download
 * spool and find out what the target holds; record the failure; return the cause the execution
 * fails with (the original error, then the target's state). The failure metric goes first, so no
 * later trouble can keep it from being counted. Cleanup is short, so it waits for the host command
 * here rather than in a loop.
 */
import { settleFailedRestore } from '../../core/restore/failed-restore';
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

/** The engine and instance of the failed restore: its backup's, or the request's when it failed before finding the backup. */
function restoredInstance(event: unknown): { engine?: string; instance?: string } {
  const state = (event ?? {}) as { engine?: unknown; instance?: unknown; backup?: { engine?: unknown; instance?: unknown } };
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { engine: text(state.backup?.engine) ?? text(state.engine), instance: text(state.backup?.instance) ?? text(state.instance) };
}

export const handler = createHandler(lambdaRuntime);
