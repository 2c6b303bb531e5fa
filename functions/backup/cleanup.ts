/**
 * Backup step 6, on the success and the failure path: remove every node's spool (on each node's
 * host, all at once) and engine-side snapshot state; on the failure path (`error` in the input)
 * also delete what the incomplete backup left in the store and count the failure — first, so that
 * nothing after it can keep it from being counted (core/backup/backup-cleanup.ts). Cleanup is
 * short, so it waits for each host command here rather than in a loop.
 */
import { cleanupBackup } from '../../core/backup/backup-cleanup';
import { caughtError } from '../../core/steps/failure-cause';
import { hostRunnerWait } from '../shared/host-wait';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { METRIC, MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

const CLEANUP_TIMEOUT_SECONDS = 300;

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('backup-cleanup', provider, async function cleanup(event, { hostRunner, runtime }) {
    const { engine, instance } = (event ?? {}) as { engine?: unknown; instance?: unknown };
    if (caughtError(event) && typeof engine === 'string' && typeof instance === 'string') {
      publish(engine, instance, [[METRIC.backupFailed, MetricUnit.Count, 1]]);
    }
    return cleanupBackup(event, runtime.deps, (node, input) =>
      hostRunnerWait(hostRunner, { host: node.host, step: 'backup-cleanup', input, timeoutSeconds: CLEANUP_TIMEOUT_SECONDS }));
  });

export const handler = createHandler(lambdaRuntime);
