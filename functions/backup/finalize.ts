/** Backup step 5: write manifest.json last, and publish the backup's metrics. Runs in Lambda. */
import { finalizeBackup } from '../../core/backup/finalize';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { METRIC, MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('backup-finalize', provider, async function finalize(event, { runtime }) {
    const summary = await finalizeBackup(event, runtime.deps);
    publish(summary.engine, summary.instance, [
      [METRIC.backupSucceeded, MetricUnit.Count, 1],
      [METRIC.backupBytes, MetricUnit.Bytes, summary.bytes],
      [METRIC.backupDuration, MetricUnit.Milliseconds, summary.durationMs],
      [METRIC.backupThroughput, MetricUnit.BytesPerSecond, summary.bytes / Math.max(summary.durationMs / 1000, 0.001)],
      [METRIC.lastGoodBackupAgeHours, MetricUnit.Count, 0],
    ]);
    return summary;
  });

export const handler = createHandler(lambdaRuntime);
