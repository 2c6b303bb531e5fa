/**
 * Alarms and the dashboard:
 *
 * - each state machine: an alarm on ExecutionsFailed and one on ExecutionsTimedOut;
 * - each instance: a staleness alarm, "the last good backup is older than the RPO", on the
 *   `DBBackup/LastGoodBackupAgeHours` metric the finalize function publishes (0 after each good
 *   backup; dimensions service=dbbackup, engine, instance — Powertools adds `service`). Missing data
 *   is breaching, so no good backup for RPO hours — whatever the reason: a failing backup, a
 *   disabled schedule, a stack that never ran — raises it;
 * - each instance with a `drill`: a drill alarm, "no restore drill has succeeded for maxAgeHours",
 *   on `DBBackup/LastGoodDrillAgeHours` (0 after each good drill; missing data breaching, as for
 *   backups); a failed drill fails its restore execution, which the restore machine's alarm reports;
 * - an SNS topic (KMS-encrypted, TLS only) all alarms notify, with an optional e-mail subscription;
 * - a CloudWatch dashboard of executions, staleness against the RPO, size and duration per instance,
 *   and for drilled instances the RTO (each drill's measured restore time and throughput) and drill age.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../functions/shared/metric-names';
import type { InstanceConfig } from './instances';


/** An instance's metric in the `DBBackup` namespace. */
export function instanceMetric(instance: Pick<InstanceConfig, 'engine' | 'name'>, metricName: MetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRICS_SERVICE, engine: instance.engine, instance: instance.name },
    ...props,
  });
}

/**
 * Period and number of periods a staleness alarm evaluates so that together they span the RPO:
 * hourly periods, as many as the RPO has hours (CloudWatch evaluates at most 7 days, so the
 * instances file caps rpoHours at 168).
 */
export function stalenessWindow(rpoHours: number): { readonly period: Duration; readonly evaluationPeriods: number } {
  const evaluationPeriods = Math.ceil(rpoHours);
  if (evaluationPeriods < 1 || evaluationPeriods > 168) throw new Error(`rpoHours must be from 1 to 168, got ${rpoHours}`);
  return { period: Duration.hours(1), evaluationPeriods };
}

/** What is monitored. */
export interface MonitoringProps {
  readonly instances: readonly InstanceConfig[];
  readonly backupStateMachine: sfn.IStateMachine;
  readonly restoreStateMachine: sfn.IStateMachine;
  /** Subscribe this address to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /** Name of the dashboard. @default generated */
  readonly dashboardName?: string;
}

/** Alarm topic, alarms and dashboard. */
export class Monitoring extends Construct {
  /** Every alarm notifies this topic. */
  public readonly topic: sns.Topic;
  /** Staleness alarms by `<engine>/<instance>`. */
  public readonly stalenessAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** Drill alarms by `<engine>/<instance>`, for the instances that have a `drill`: no good drill for its `maxAgeHours`. */
  public readonly drillAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    // CloudWatch publishes the alarms as itself: the topic's key and the topic's policy must let it
    // (the policy `enforceSSL` adds replaces SNS's default one, which let the account publish), and
    // only for this account's alarms.
    const stack = Stack.of(this);
    const alarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    };
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const topicKey = new kms.Key(this, 'TopicKey', { description: 'dbbackup: encrypts the alarm topic', enableKeyRotation: true });
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: alarmsOfThisAccount,
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'dbbackup alarms', masterKey: topicKey, enforceSSL: true });
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [cloudWatch],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: alarmsOfThisAccount,
    }));
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const machines = [
      ['Backup', props.backupStateMachine],
      ['Restore', props.restoreStateMachine],
    ] as const;
    const machineAlarms: cloudwatch.Alarm[] = [];
    for (const [name, machine] of machines) {
      for (const [what, metric] of [
        ['Failed', machine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' })],
        ['TimedOut', machine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' })],
      ] as const) {
        const alarm = new cloudwatch.Alarm(this, `${name}Executions${what}`, {
          alarmDescription: `dbbackup: a ${name.toLowerCase()} execution ${what === 'Failed' ? 'failed' : 'timed out'}`,
          metric,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        alarm.addAlarmAction(notify);
        machineAlarms.push(alarm);
      }
    }

    // "The newest good one is older than its limit": the metric is 0 after each good backup (drill),
    // and missing data breaches, so no good one for the whole window, whatever the reason, raises it.
    const ageAlarm = (id: string, instance: InstanceConfig, metricName: MetricName, limitHours: number, description: string): cloudwatch.Alarm => {
      const window = stalenessWindow(limitHours);
      const alarm = new cloudwatch.Alarm(this, `${id}-${instance.engine}-${instance.name}`, {
        alarmDescription: `dbbackup: ${description}`,
        metric: instanceMetric(instance, metricName, { statistic: 'Minimum', period: window.period }),
        threshold: limitHours,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: window.evaluationPeriods,
        datapointsToAlarm: window.evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      return alarm;
    };
    const keyOf = (instance: InstanceConfig) => `${instance.engine}/${instance.name}`;
    const staleness = new Map(props.instances.map((instance) => [keyOf(instance), ageAlarm(
      'Stale', instance, METRIC.lastGoodBackupAgeHours, instance.rpoHours,
      `the last good backup of ${keyOf(instance)} is older than its RPO of ${instance.rpoHours} h`,
    )] as const));
    this.stalenessAlarms = staleness;
    const drills = new Map(props.instances.filter((instance) => instance.drill).map((instance) => [keyOf(instance), ageAlarm(
      'DrillStale', instance, METRIC.lastGoodDrillAgeHours, instance.drill!.maxAgeHours,
      `no restore drill of ${keyOf(instance)} has succeeded for ${instance.drill!.maxAgeHours} h (its backups are not restore-proven)`,
    )] as const));
    this.drillAlarms = drills;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.days(7) });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: '# dbbackup\nExecutions of the state machines, and per instance: age of the last good backup against its RPO, size and duration; for drilled instances, the measured restore time (RTO) and the age of the newest good drill.', width: 24, height: 2 }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...machineAlarms, ...staleness.values(), ...drills.values()], width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      ...machines.map(
        ([name, machine]) =>
          new cloudwatch.GraphWidget({
            title: `${name} executions`,
            width: 12,
            left: [machine.metricStarted(), machine.metricSucceeded(), machine.metricFailed(), machine.metricTimedOut()].map((m) =>
              m.with({ statistic: 'Sum', period: Duration.hours(1) }),
            ),
          }),
      ),
    );
    for (const instance of props.instances) {
      const key = `${instance.engine}/${instance.name}`;
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${key}: hours since last good backup`,
          width: 8,
          left: [instanceMetric(instance, METRIC.lastGoodBackupAgeHours, { statistic: 'Minimum', period: Duration.hours(1) })],
          leftAnnotations: [{ value: instance.rpoHours, label: `RPO ${instance.rpoHours} h`, color: cloudwatch.Color.RED }],
        }),
        new cloudwatch.GraphWidget({
          title: `${key}: backup size`,
          width: 8,
          left: [instanceMetric(instance, METRIC.backupBytes, { statistic: 'Maximum', period: Duration.hours(1) })],
        }),
        new cloudwatch.GraphWidget({
          title: `${key}: backups and duration`,
          width: 8,
          left: [
            instanceMetric(instance, METRIC.backupSucceeded, { statistic: 'Sum', period: Duration.hours(1) }),
            instanceMetric(instance, METRIC.backupFailed, { statistic: 'Sum', period: Duration.hours(1) }),
          ],
          right: [instanceMetric(instance, METRIC.backupDuration, { statistic: 'Maximum', period: Duration.hours(1) })],
        }),
      );
      if (instance.drill) {
        const drillPeriod = Duration.hours(1);
        this.dashboard.addWidgets(
          new cloudwatch.GraphWidget({
            title: `${key}: RTO, measured restore time of each drill`,
            width: 8,
            left: [instanceMetric(instance, METRIC.restoreDurationSeconds, { statistic: 'Maximum', period: drillPeriod })],
            right: [instanceMetric(instance, METRIC.restoreBytesPerSecond, { statistic: 'Minimum', period: drillPeriod })],
          }),
          new cloudwatch.GraphWidget({
            title: `${key}: hours since last good drill`,
            width: 8,
            left: [instanceMetric(instance, METRIC.lastGoodDrillAgeHours, { statistic: 'Minimum', period: drillPeriod })],
            leftAnnotations: [{ value: instance.drill.maxAgeHours, label: `limit ${instance.drill.maxAgeHours} h`, color: cloudwatch.Color.RED }],
          }),
          new cloudwatch.GraphWidget({
            title: `${key}: drills`,
            width: 8,
            left: [
              instanceMetric(instance, METRIC.drillSucceeded, { statistic: 'Sum', period: drillPeriod }),
              instanceMetric(instance, METRIC.drillFailed, { statistic: 'Sum', period: drillPeriod }),
            ],
          }),
        );
      }
    }
  }
}
