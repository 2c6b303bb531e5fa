/**
 * The deployable system: the store bucket, the step functions with least-privilege roles, the
 * backup and restore state machines, one backup schedule (and one of incremental backups, and one
 * of restore drills, where configured) and one prune schedule per configured instance, alarms and a dashboard, and one managed policy per database host for its instance role.
 */
import { Aws, CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BackupStateMachine } from '../statemachines/backup-state-machine';
import { RestoreStateMachine } from '../statemachines/restore-state-machine';
import type { RetryPolicyProps } from '../statemachines/retry-policy';
import { DEFAULT_EXECUTION_TIMEOUT } from '../statemachines/workflow';
import { AgentInstall } from './agent-install';
import { AgentStepDocument } from './agent-step-document';
import { BackupBucket, type BackupBucketProps } from './backup-bucket';
import { placeInNetwork, warnWithoutDatabaseNetwork, type DatabaseNetwork } from './database-network';
import { FUNCTION_ACCESS } from './function-access';
import {
  addStatements, DEFAULT_MANAGED_TAG, hostRunnerStatements, secretsStatements, storeStatements,
  type ManagedTag,
} from './iam-statements';
import type { InstanceConfig } from './instances';
import { HostPolicies } from './host-policies';
import { checkSecretRefs } from './secret-refs';
import { Monitoring } from './monitoring';
import { suppressAcceptedFindings } from './nag-suppressions';
import { backupRule, drillRule, InstanceSchedules } from './schedules';
import { pruneRule } from './prune-schedules';
import { StepLambdas, type StepLambdasProps } from './step-lambdas';

/** Log levels the functions understand (core/config/settings.ts). */
export type FunctionLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Everything that can be tuned; only `instances` and `projectRoot` are required. */
export interface BackupStackProps extends StackProps {
  /** The instances to back up (see instances.ts; the app loads them from dbbackup.instances.json). */
  readonly instances: readonly InstanceConfig[];
  /** Repository root: where `functions/`, `package-lock.json` and `node_modules/` are. */
  readonly projectRoot: string;
  /** Nodes backed up at the same time. @default 4 */
  readonly maxConcurrency?: number;
  /** Retry numbers of every Task and host step. @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicyProps;
  /** Longest a whole execution may take. @default 24 hours */
  readonly executionTimeout?: Duration;
  /** Longest one host step may run on its host before it is cancelled. @default 6 hours */
  readonly hostStepTimeout?: Duration;
  /** Functions' log level. @default 'info' */
  readonly logLevel?: FunctionLogLevel;
  /** Command line that runs the agent CLI on database hosts (fixed in the agent-step document). @default 'dbbackup' */
  readonly agentCommand?: string;
  /** Tag a database host must carry to receive commands. @default dbbackup:managed=true */
  readonly managedTag?: ManagedTag;
  /** SSM parameter path the `ssm:` secret references live under. @default '/dbbackup/' */
  readonly parameterPrefix?: string;
  /** Secrets Manager name prefix of `secretsmanager:` references. @default 'dbbackup/' */
  readonly secretNamePrefix?: string;
  /** Lifecycle of the bucket. */
  readonly bucket?: BackupBucketProps;
  /** Sizing of the functions. */
  readonly functions?: Omit<StepLambdasProps, 'projectRoot' | 'environment'>;
  /** Subscribe this address to the alarm topic. @default none */
  readonly alarmEmail?: string;
  /** Subnets and security groups of the functions that connect to databases (database-network.ts). @default none: outside any VPC */
  readonly databaseNetwork?: DatabaseNetwork;
}

/** The dbbackup stack. */
export class BackupStack extends Stack {
  public readonly store: BackupBucket;
  public readonly functions: StepLambdas;
  public readonly backup: BackupStateMachine;
  public readonly restore: RestoreStateMachine;
  /** The backup of each instance, on its schedule. */
  public readonly schedules: InstanceSchedules;
  /** The incremental backups of each instance that has an `incrementalSchedule`. */
  public readonly incrementalSchedules: InstanceSchedules;
  /** The restore drill of each instance that has a `drill`. */
  public readonly drillSchedules: InstanceSchedules;
  /** The prune of each instance, on its retention schedule. */
  public readonly pruneSchedules: InstanceSchedules;
  public readonly monitoring: Monitoring;
  /** One managed policy per database host: attach each to that host's instance role (host-policies.ts). */
  public readonly hostPolicies: HostPolicies;
  /** The one SSM document the functions send: runs a host step with the agent. */
  public readonly agentStepDocument: AgentStepDocument;
  /** Puts the agent on every managed host and keeps it current. */
  public readonly agentInstall: AgentInstall;

  constructor(scope: Construct, id: string, props: BackupStackProps) {
    super(scope, id, props);
    const parameterPrefix = props.parameterPrefix ?? '/dbbackup/';
    const secretNamePrefix = props.secretNamePrefix ?? 'dbbackup/';
    checkSecretRefs(props.instances, parameterPrefix, secretNamePrefix);
    const hostStepTimeout = props.hostStepTimeout ?? Duration.hours(6);
    const executionTimeout = props.executionTimeout ?? DEFAULT_EXECUTION_TIMEOUT;
    if (hostStepTimeout.toSeconds() >= executionTimeout.toSeconds()) {
      throw new Error(`hostStepTimeout (${hostStepTimeout.toHumanString()}) must be shorter than executionTimeout (${executionTimeout.toHumanString()})`);
    }

    this.store = new BackupBucket(this, 'Store', props.bucket);
    this.agentStepDocument = new AgentStepDocument(this, 'AgentStep', { bucket: this.store.bucket, agentCommand: props.agentCommand });
    this.agentInstall = new AgentInstall(this, 'AgentInstall', { projectRoot: props.projectRoot, managedTag: props.managedTag ?? DEFAULT_MANAGED_TAG });
    const logLevel = props.logLevel ?? 'info';
    this.functions = new StepLambdas(this, 'Steps', {
      ...props.functions,
      projectRoot: props.projectRoot,
      environment: {
        DBBACKUP_STORE: `s3://${this.store.bucket.bucketName}`,
        // Step input comes from the console: secrets only from SSM and Secrets Manager (core/config/platform.ts).
        DBBACKUP_PLATFORM: 'aws',
        DBBACKUP_LOG_LEVEL: logLevel,
        POWERTOOLS_LOG_LEVEL: logLevel.toUpperCase(),
        DBBACKUP_HOST_RUNNER: 'ssm',
        DBBACKUP_SSM_DOCUMENT: this.agentStepDocument.documentName,
        DBBACKUP_HOST_STEP_TIMEOUT_SECONDS: String(hostStepTimeout.toSeconds()),
      },
    });
    const lambdaTimeout = props.functions?.timeout ?? Duration.minutes(15);

    for (const [handler, fn] of this.functions.all()) {
      const access = FUNCTION_ACCESS[handler];
      addStatements(fn, storeStatements(this.store.bucket, this.store.key, access.backups, access.pool));
      if (access.hostRunner) {
        addStatements(fn, hostRunnerStatements(this, { documentName: this.agentStepDocument.documentName, managedTag: props.managedTag }));
      }
      if (access.secrets) addStatements(fn, secretsStatements(this, { parameterPrefix, secretNamePrefix }));
      if (access.databases && props.databaseNetwork) placeInNetwork(fn, fn.role!, props.databaseNetwork);
    }
    warnWithoutDatabaseNetwork(this, props.instances, props.databaseNetwork);

    // Under /aws/vendedlogs/states/, as AWS asks of Step Functions log groups: log delivery then
    // needs no entry of its own in the account's CloudWatch Logs resource policy (5 120 characters,
    // which a few dozen log groups fill, and then logging setup fails). The stack id's UUID makes the
    // name unique per stack creation: the group is retained, and a re-created stack must not collide with it.
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: Fn.join('', [`/aws/vendedlogs/states/${this.stackName}-`, Fn.select(2, Fn.split('/', Aws.STACK_ID))]),
      retention: logs.RetentionDays.THREE_MONTHS,
    });
    const workflow = {
      retry: props.retry,
      taskTimeout: lambdaTimeout,
      timeout: executionTimeout,
      hostStepTimeout,
      logGroup,
      tracingEnabled: true,
    };
    this.backup = new BackupStateMachine(this, 'Backup', { ...workflow, functions: this.functions.backup, maxConcurrency: props.maxConcurrency });
    this.restore = new RestoreStateMachine(this, 'Restore', { ...workflow, functions: this.functions.restore });

    this.schedules = new InstanceSchedules(this, 'Schedules', { instances: props.instances, ruleOf: backupRule(this.backup.stateMachine, this.store.key.keyArn) });
    this.incrementalSchedules = new InstanceSchedules(this, 'IncrementalSchedules', {
      instances: props.instances.filter((instance) => instance.incrementalSchedule !== undefined),
      ruleOf: backupRule(this.backup.stateMachine, this.store.key.keyArn, { incremental: true }),
    });
    this.drillSchedules = new InstanceSchedules(this, 'DrillSchedules', {
      instances: props.instances.filter((instance) => instance.drill !== undefined),
      ruleOf: drillRule(this.restore.stateMachine),
    });
    this.pruneSchedules = new InstanceSchedules(this, 'PruneSchedules', { instances: props.instances, ruleOf: pruneRule(this.functions.maintenance.prune) });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      instances: props.instances,
      backupStateMachine: this.backup.stateMachine,
      restoreStateMachine: this.restore.stateMachine,
      alarmEmail: props.alarmEmail,
    });

    this.hostPolicies = new HostPolicies(this, 'HostPolicies', {
      instances: props.instances, bucket: this.store.bucket, key: this.store.key, parameterPrefix, secretNamePrefix,
      commonStatements: this.agentInstall.hostStatements(),
    });

    new CfnOutput(this, 'BucketName', { value: this.store.bucket.bucketName, description: 'the store: s3://<this>' });
    new CfnOutput(this, 'BackupStateMachineArn', { value: this.backup.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ArtifactKeyArn', { value: this.store.key.keyArn, description: 'the KMS key schedules encrypt artifacts with by default: --encrypt-kms <this> for a backup started by hand' });
    new CfnOutput(this, 'RestoreStateMachineArn', { value: this.restore.stateMachine.stateMachineArn, description: 'start a restore here (console input: see README)' });
    new CfnOutput(this, 'AgentStepDocumentName', {
      value: this.agentStepDocument.documentName,
      description: 'the SSM document that runs host steps (DBBACKUP_SSM_DOCUMENT for a CLI using the SSM host runner)',
    });
    new CfnOutput(this, 'AgentInstallDocumentName', {
      value: this.agentInstall.documentName,
      description: 'the SSM document that installs or updates the agent on a host (the stack runs it on every tagged host)',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    const tag = props.managedTag ?? DEFAULT_MANAGED_TAG;
    for (const [host, policy] of this.hostPolicies.byHost) {
      new CfnOutput(this, `HostPolicyArn${host.replace(/[^A-Za-z0-9]/g, '')}`, {
        value: policy.managedPolicyArn,
        description: `attach to the instance role of ${host} (tagged ${tag.key}=${tag.value}); it holds only for that host's credentials`,
      });
    }

    suppressAcceptedFindings(this, { parameterPrefix, secretNamePrefix });
  }
}
