/** Restore last step: the summary with the measured restore time; fails when validation failed. */
import { reportRestore } from '../../core/restore/restore-steps';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { METRIC, MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('restore-report', provider, async function report(event, { runtime }) {
    const { backup } = (event ?? {}) as { backup?: { engine?: string; instance?: string } };
    try {
      const summary = await reportRestore(event, runtime.deps);
      publish(summary.engine, summary.instance, [
        [METRIC.restoreSucceeded, MetricUnit.Count, 1],
        [METRIC.restoreBytes, MetricUnit.Bytes, summary.bytes],
        [METRIC.restoreDuration, MetricUnit.Milliseconds, summary.restoreDurationMs],
      ]);
      return summary;
    } catch (error) {
      if (backup?.engine && backup.instance) publish(backup.engine, backup.instance, [[METRIC.restoreFailed, MetricUnit.Count, 1]]);
      throw error;
    }
  });

export const handler = createHandler(lambdaRuntime);
