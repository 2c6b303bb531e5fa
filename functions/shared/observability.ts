/**
 * Powertools logger and metrics shared by every handler: structured JSON logs with the backup id
 * and engine on every line, and EMF metrics in the `DBBackup` namespace.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from './metric-names';

export const logger = new Logger({ serviceName: METRICS_SERVICE });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

export { METRIC } from './metric-names';
export { MetricUnit };
export type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Records `values` with engine/instance dimensions and flushes them as one EMF line. */
export function publish(
  engine: string,
  instance: string,
  values: Array<[name: MetricName, unit: Unit, value: number]>,
): void {
  metrics.addDimensions({ engine, instance });
  for (const [name, unit, value] of values) metrics.addMetric(name, unit, value);
  metrics.publishStoredMetrics();
}

/** The services' Logger shape over Powertools' logger. */
export const serviceLogger: import('../../core/logger').Logger = {
  debug: (message, extra) => logger.debug(message, extra ?? {}),
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};
