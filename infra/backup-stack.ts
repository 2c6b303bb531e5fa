/**
 * The deployable system: the store bucket, the step functions with least-privilege roles, the
 * backup and restore state machines, one schedule per configured instance, alarms and a dashboard,
 * and a managed policy for the database hosts' instance roles.
 */
import { Aws, CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BackupStateMachine } from '../statemachines/backup-state-machine';
import { RestoreStateMachine } from '../statemachines/restore-state-machine';
import type { RetryPolicyProps } from '../statemachines/retry-policy';
import { DEFAULT_EXECUTION_TIMEOUT } from '../statemachines/workflow';
import { BackupBucket, type BackupBucketProps } from './backup-bucket';
import { FUNCTION_ACCESS } from './function-access';
import {
  addStatements, DEFAULT_MANAGED_TAG, hostRunnerStatements, RUN_SHELL_SCRIPT_DOCUMENT, secretsStatements, storeStatements,
  type ManagedTag,
} from './iam-statements';
import { secretRefs, type InstanceConfig } from './instances';
import { Monitoring } from './monitoring';
import { suppressAcceptedFindings } from './nag-suppressions';
import { BackupSchedules } from './schedules';
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
  /** Command line that runs the agent CLI on database hosts. @default 'dbbackup' */
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
}

/** The dbbackup stack. */
export class BackupStack extends Stack {
  public readonly store: BackupBucket;
  public readonly functions: StepLambdas;
  public readonly backup: BackupStateMachine;
  public readonly restore: RestoreStateMachine;
  public readonly schedules: BackupSchedules;
  public readonly monitoring: Monitoring;
  /** Attach to the instance role of every database host: the agent there reads and writes the store. */
  public readonly dbHostPolicy: iam.ManagedPolicy;

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
    const logLevel = props.logLevel ?? 'info';
    this.functions = new StepLambdas(this, 'Steps', {
      ...props.functions,
      projectRoot: props.projectRoot,
      environment: {
        DBBACKUP_STORE: `s3://${this.store.bucket.bucketName}`,
        DBBACKUP_LOG_LEVEL: logLevel,
        POWERTOOLS_LOG_LEVEL: logLevel.toUpperCase(),
        DBBACKUP_HOST_RUNNER: 'ssm',
        DBBACKUP_SSM_DOCUMENT: RUN_SHELL_SCRIPT_DOCUMENT,
        DBBACKUP_AGENT_COMMAND: props.agentCommand ?? 'dbbackup',
        DBBACKUP_HOST_STEP_TIMEOUT_SECONDS: String(hostStepTimeout.toSeconds()),
      },
    });
    const lambdaTimeout = props.functions?.timeout ?? Duration.minutes(15);

    for (const [handler, fn] of this.functions.all()) {
      const access = FUNCTION_ACCESS[handler];
      addStatements(fn, storeStatements(this.store.bucket, this.store.key, access.backups));
      if (access.hostRunner) addStatements(fn, hostRunnerStatements(this, { managedTag: props.managedTag }));
      if (access.secrets) addStatements(fn, secretsStatements(this, { parameterPrefix, secretNamePrefix }));
    }

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

    this.schedules = new BackupSchedules(this, 'Schedules', { instances: props.instances, stateMachine: this.backup.stateMachine });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      instances: props.instances,
      backupStateMachine: this.backup.stateMachine,
      restoreStateMachine: this.restore.stateMachine,
      alarmEmail: props.alarmEmail,
    });

    this.dbHostPolicy = new iam.ManagedPolicy(this, 'DbHostPolicy', {
      description: 'dbbackup: attach to database hosts\' instance role (the host agent reads/writes the store and resolves secrets)',
      statements: [
        ...storeStatements(this.store.bucket, this.store.key, 'readWrite'),
        ...secretsStatements(this, { parameterPrefix, secretNamePrefix }),
      ],
    });

    new CfnOutput(this, 'BucketName', { value: this.store.bucket.bucketName, description: 'the store: s3://<this>' });
    new CfnOutput(this, 'BackupStateMachineArn', { value: this.backup.stateMachine.stateMachineArn });
    new CfnOutput(this, 'RestoreStateMachineArn', { value: this.restore.stateMachine.stateMachineArn, description: 'start a restore here (console input: see README)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DbHostPolicyArn', { value: this.dbHostPolicy.managedPolicyArn, description: `attach to DB hosts' instance role; tag the hosts ${(props.managedTag ?? DEFAULT_MANAGED_TAG).key}=${(props.managedTag ?? DEFAULT_MANAGED_TAG).value}` });

    suppressAcceptedFindings(this, { parameterPrefix, secretNamePrefix });
  }
}

/** Refuses secret references the functions would not be allowed to read. */
function checkSecretRefs(instances: readonly InstanceConfig[], parameterPrefix: string, secretNamePrefix: string): void {
  for (const instance of instances) {
    for (const ref of secretRefs(instance.config)) {
      const ok = ref.startsWith('ssm:')
        ? ref.slice('ssm:'.length).startsWith(parameterPrefix)
        : secretName(ref.slice('secretsmanager:'.length)).startsWith(secretNamePrefix);
      if (!ok) {
        throw new Error(
          `instance ${instance.engine}/${instance.name}: secret '${ref}' is outside what the functions may read ` +
            `(SSM parameters under '${parameterPrefix}', Secrets Manager names starting '${secretNamePrefix}')`,
        );
      }
    }
  }
}

/** The secret name of a Secrets Manager ref body (`name[#key]` or an ARN). */
function secretName(body: string): string {
  const withoutKey = body.split('#')[0];
  const arn = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(withoutKey);
  return arn ? arn[1] : withoutKey;
}
