/**
 * Restore last step: the summary with the measured restore time; fails when validation failed (the
 * failure path's cleanup then counts the failure, as it does for every failed restore).
 */
import { reportRestore } from '../../core/restore/restore-steps';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { METRIC, MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('restore-report', provider, async function report(event, { runtime }) {
    const summary = await reportRestore(event, runtime.deps);
    publish(summary.engine, summary.instance, [
      [METRIC.restoreSucceeded, MetricUnit.Count, 1],
      [METRIC.restoreBytes, MetricUnit.Bytes, summary.bytes],
      [METRIC.restoreDuration, MetricUnit.Milliseconds, summary.restoreDurationMs],
    ]);
    return summary;
  });

export const handler = createHandler(lambdaRuntime);
