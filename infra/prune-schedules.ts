/**
 * The prune of each instance (one rule per instance, see schedules.ts): the prune function started on the instance's
 * `retention.schedule` with its retention as input (core/catalog/scheduled-prune.ts): the same
 * rules as `dbbackup prune`, deletion on, the newest verified backup always kept. A failed start
 * is retried a few times; the next scheduled run catches up with anything missed.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ScheduledPrune } from '../core/catalog/scheduled-prune';
import type { InstanceConfig } from './instances';
import type { InstanceRule } from './schedules';

/** The prune function's input for one instance. */
export function pruneInput(instance: InstanceConfig): ScheduledPrune {
  const { keepLast, maxAgeDays } = instance.retention;
  return {
    engine: instance.engine,
    instance: instance.name,
    ...(keepLast !== undefined ? { keepLast } : {}),
    ...(maxAgeDays !== undefined ? { maxAgeDays } : {}),
  };
}

/** An instance's prune: the prune function started on its `retention.schedule` with its retention. */
export function pruneRule(pruneFunction: lambda.IFunction): (instance: InstanceConfig) => InstanceRule {
  return (instance) => ({
    what: 'prune',
    schedule: instance.retention.schedule,
    target: new targets.LambdaFunction(pruneFunction, {
      event: events.RuleTargetInput.fromObject(pruneInput(instance)),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    }),
  });
}
