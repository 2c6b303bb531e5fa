/**
 * One EventBridge rule per configured instance, starting the backup state machine on the
 * instance's schedule with the instance's backup request as execution input. A missed or failed
 * start is not retried forever: the staleness alarm (monitoring.ts) reports it.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { InstanceConfig } from './instances';

/** The backup state machine's execution input for one instance: `{ engine, instance, config, host, rateLimit? }`. */
export interface BackupExecutionInput {
  readonly engine: string;
  readonly instance: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly rateLimit?: number;
  readonly host: string;
}

/** The backup request a schedule starts for `instance` (config keeps its `$secret` references). */
export function backupExecutionInput(instance: InstanceConfig): BackupExecutionInput {
  return {
    engine: instance.engine,
    instance: instance.name,
    config: instance.config,
    host: instance.host,
    ...(instance.rateLimit !== undefined ? { rateLimit: instance.rateLimit } : {}),
  };
}

/** Schedules of every instance. */
export interface BackupSchedulesProps {
  readonly instances: readonly InstanceConfig[];
  readonly stateMachine: sfn.IStateMachine;
}

/** The schedule rules, one per instance. */
export class BackupSchedules extends Construct {
  /** Rules by `<engine>/<instance>`. */
  public readonly rules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: BackupSchedulesProps) {
    super(scope, id);
    const rules = new Map<string, events.Rule>();
    for (const instance of props.instances) {
      const key = `${instance.engine}/${instance.name}`;
      const rule = new events.Rule(this, `${instance.engine}-${instance.name}`, {
        description: `dbbackup: back up ${key} on ${instance.schedule}`,
        schedule: events.Schedule.expression(instance.schedule),
      });
      rule.addTarget(
        new targets.SfnStateMachine(props.stateMachine, {
          input: events.RuleTargetInput.fromObject(backupExecutionInput(instance)),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      );
      rules.set(key, rule);
    }
    this.rules = rules;
  }
}
