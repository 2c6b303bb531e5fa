/** Backup step 5: write manifest.json last, and publish the backup's metrics. Runs in Lambda. */
import { finalizeBackup } from '../../core/backup/backup-steps';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('backup-finalize', provider, async function finalize(event, { runtime }) {
    const summary = await finalizeBackup(event, runtime.deps);
    publish(summary.engine, summary.instance, [
      ['BackupSucceeded', MetricUnit.Count, 1],
      ['BackupBytes', MetricUnit.Bytes, summary.bytes],
      ['BackupDuration', MetricUnit.Milliseconds, summary.durationMs],
      ['BackupThroughput', MetricUnit.BytesPerSecond, summary.bytes / Math.max(summary.durationMs / 1000, 0.001)],
      ['LastGoodBackupAgeHours', MetricUnit.Count, 0],
    ]);
    return summary;
  });

export const handler = createHandler(lambdaRuntime);
