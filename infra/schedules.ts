/**
 * One EventBridge rule per configured instance and purpose ({@link InstanceSchedules}): its backup,
 * starting the backup state machine on the instance's schedule with the instance's backup request
 * as execution input ({@link backupRule}), its incremental backups when it has an
 * `incrementalSchedule` (the same request, `incremental: true`), its restore drill when it has a
 * `drill` ({@link drillRule}: the restore state machine in drill mode), and its prune (prune-schedules.ts). A missed or failed
 * start is not retried forever: the staleness alarm (monitoring.ts) reports it.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RestoreRequest } from '../core/restore/restore-state';
import type { InstanceConfig } from './instances';
import { encodingInput } from './artifact-keys';

/** The backup state machine's execution input for one instance: `{ engine, instance, config, host, rateLimit?, incremental?, compression?, encryption? }`. */
export interface BackupExecutionInput extends ReturnType<typeof encodingInput> {
  readonly engine: string;
  readonly instance: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly rateLimit?: number;
  readonly host: string;
  readonly incremental?: true;
}

/**
 * The backup request a schedule starts for `instance` (config keeps its `$secret` references);
 * `incremental` for its incremental schedule; its artifacts compressed and encrypted as it says,
 * data keys from `artifactKeyArn` unless it names its own (artifact-keys.ts).
 */
export function backupExecutionInput(instance: InstanceConfig, artifactKeyArn: string, incremental = false): BackupExecutionInput {
  return {
    engine: instance.engine,
    instance: instance.name,
    config: instance.config,
    host: instance.host,
    ...(instance.rateLimit !== undefined ? { rateLimit: instance.rateLimit } : {}),
    ...(incremental ? { incremental: true as const } : {}),
    ...encodingInput(instance, artifactKeyArn),
  };
}

/**
 * The restore state machine's execution input for an instance's drill: its newest verified backup,
 * restored on the drill's host into a scratch target (or the drill's target), recorded.
 */
export function drillExecutionInput(instance: InstanceConfig): RestoreRequest {
  const drill = instance.drill!;
  return {
    backupId: 'latest',
    engine: instance.engine,
    instance: instance.name,
    host: drill.host,
    ...(drill.target ? { target: drill.target } : {}),
    drill: drill.targetSettings ? { targetSettings: drill.targetSettings } : {},
  };
}

/** The most characters of input EventBridge passes a rule's target (PutTargets `Input`). */
export const MAX_TARGET_INPUT_CHARS = 8192;

/** A key ARN as long as one gets (a GovCloud multi-Region key), standing in for the stack's while an input is measured. */
const LONGEST_KEY_ARN = `arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-${'0'.repeat(32)}`;

/**
 * `input`, when it fits what EventBridge passes a target; else, at synth (a deploy would fail on
 * it), an error naming the instance and by how much.
 * @throws Error when `measured` (the input with its tokens at their longest) is too long
 */
function fitted<T>(instance: InstanceConfig, what: string, input: T, measured: unknown): T {
  const length = JSON.stringify(measured).length;
  if (length > MAX_TARGET_INPUT_CHARS) {
    throw new Error(`instance ${instance.engine}/${instance.name}: its ${what} request is ${length} characters of JSON, more than the ${MAX_TARGET_INPUT_CHARS} EventBridge passes a schedule's target: shorten its config (fewer shards or nodes per instance: split it into several instances)`);
  }
  return input;
}

/** What one instance's rule does: `what` (for its description) on `schedule`, through `target`. */
export interface InstanceRule {
  readonly what: string;
  readonly schedule: string;
  readonly target: events.IRuleTarget;
}

export interface InstanceSchedulesProps {
  readonly instances: readonly InstanceConfig[];
  /** The rule of one instance (see {@link backupRule}, prune-schedules.ts's `pruneRule`). */
  readonly ruleOf: (instance: InstanceConfig) => InstanceRule;
}

/** One EventBridge rule per instance. */
export class InstanceSchedules extends Construct {
  /** Rules by `<engine>/<instance>`. */
  public readonly rules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: InstanceSchedulesProps) {
    super(scope, id);
    const rules = new Map<string, events.Rule>();
    for (const instance of props.instances) {
      const key = `${instance.engine}/${instance.name}`;
      const { what, schedule, target } = props.ruleOf(instance);
      const rule = new events.Rule(this, `${instance.engine}-${instance.name}`, {
        description: `dbbackup: ${what} ${key} on ${schedule}`,
        schedule: events.Schedule.expression(schedule),
      });
      rule.addTarget(target);
      rules.set(key, rule);
    }
    this.rules = rules;
  }
}

/**
 * An instance's backup: the backup state machine started on its `schedule` with its backup request;
 * with `incremental`, on its `incrementalSchedule` with the request for an incremental backup (give
 * it only the instances that have one).
 */
export function backupRule(stateMachine: sfn.IStateMachine, artifactKeyArn: string, { incremental = false } = {}): (instance: InstanceConfig) => InstanceRule {
  return (instance) => ({
    what: incremental ? 'back up incrementally' : 'back up',
    schedule: incremental ? instance.incrementalSchedule! : instance.schedule,
    target: new targets.SfnStateMachine(stateMachine, {
      input: events.RuleTargetInput.fromObject(fitted(instance, incremental ? 'incremental backup' : 'backup', backupExecutionInput(instance, artifactKeyArn, incremental), backupExecutionInput(instance, LONGEST_KEY_ARN, incremental))),
      retryAttempts: 3,
      maxEventAge: Duration.hours(1),
    }),
  });
}

/** An instance's drill: the restore state machine started on the drill's schedule in drill mode (give it only the instances that have one). */
export function drillRule(restoreStateMachine: sfn.IStateMachine): (instance: InstanceConfig) => InstanceRule {
  return (instance) => ({
    what: `drill (restore into a scratch target on ${instance.drill!.host}, validate, record)`,
    schedule: instance.drill!.schedule,
    target: new targets.SfnStateMachine(restoreStateMachine, {
      input: events.RuleTargetInput.fromObject(fitted(instance, 'drill', drillExecutionInput(instance), drillExecutionInput(instance))),
      retryAttempts: 3,
      maxEventAge: Duration.hours(1),
    }),
  });
}
