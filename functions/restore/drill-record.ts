/**
 * Drill last step, after the report or after the failure path's cleanup: record the outcome next
 * to the backup's manifest, publish it (a good drill: its restore time and throughput, and the
 * age of the newest good drill back to 0; a bad one: DrillFailed), then tear the scratch target
 * down on its host. The record comes first, so a teardown in trouble cannot lose it.
 */
import { drillOutcome, recordDrill, mayHaveScratch } from '../../core/drill/drill-steps';
import { restoredInstance } from '../../core/restore/restore-state';
import { hostRunnerWait } from '../shared/host-wait';
import { lambdaRuntime, type RuntimeProvider } from '../shared/lambda-runtime';
import { METRIC, MetricUnit, publish } from '../shared/observability';
import { stepHandler } from '../shared/step-handler';

const TEARDOWN_TIMEOUT_SECONDS = 300;

export const createHandler = (provider: RuntimeProvider) =>
  stepHandler('drill-record', provider, async function recordTheDrill(event, { hostRunner, runtime }) {
    const record = await recordDrill(event, runtime.deps);
    const { engine, instance } = restoredInstance(event);
    if (record && engine && instance) {
      publish(engine, instance, record.ok
        ? [
          [METRIC.drillSucceeded, MetricUnit.Count, 1],
          [METRIC.restoreDurationSeconds, MetricUnit.Seconds, record.restoreDurationMs / 1000],
          [METRIC.restoreBytesPerSecond, MetricUnit.BytesPerSecond, record.bytesPerSecond],
          [METRIC.lastGoodDrillAgeHours, MetricUnit.Count, 0],
        ]
        : [[METRIC.drillFailed, MetricUnit.Count, 1]]);
    }
    if (mayHaveScratch(event)) {
      await hostRunnerWait(hostRunner, { host: event.host, step: 'drill-teardown', input: { restoreId: event.restoreId }, timeoutSeconds: TEARDOWN_TIMEOUT_SECONDS });
    }
    return drillOutcome(record);
  });

export const handler = createHandler(lambdaRuntime);
