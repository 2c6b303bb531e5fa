/**
 * The deployable stack, synthesized ONCE with real esbuild bundling of every function (the slow
 * part, ~30 s), with cdk-nag AwsSolutions applied exactly as `npx cdk synth` does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildApp, type BuiltApp } from '../../../infra/build-app';
import type { BackupStack } from '../../../infra/backup-stack';
import type { InstanceInput } from '../../../infra/instances';
import { placeholderFunctionArn, synthesizeDefinitions, type AslDefinition } from '../../../statemachines/definitions';
import { HANDLER_IDS, type HandlerId } from '../../../statemachines/handlers';
import { restoreRequestSchema } from '../../../core/restore/restore-state';

const validateAsl = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };

const INSTANCES: InstanceInput[] = [
  {
    name: 'main',
    engine: 'etcd',
    config: { endpoints: ['https://etcd-0:2379'], username: 'backup', password: { $secret: 'ssm:/dbbackup/etcd/main/password' } },
    host: 'i-0123456789abcdef0',
    schedule: 'cron(0 3 * * ? *)',
    rpoHours: 26,
    rateLimit: 52428800,
    retention: { keepLast: 7, maxAgeDays: 30 },
    drill: { schedule: 'cron(0 5 ? * SUN *)', host: 'i-0fedcba9876543210', maxAgeHours: 168, targetSettings: { password: { $secret: 'ssm:/dbbackup/restore/etcd/main/password' } } },
  },
  {
    name: 'events',
    engine: 'etcd',
    config: { endpoints: ['https://etcd-9:2379'], password: { $secret: 'secretsmanager:dbbackup/etcd-events#password' }, username: 'b' },
    host: 'mi-0123456789abcdef0',
    schedule: 'rate(6 hours)',
    rpoHours: 8,
    retention: { keepLast: 3, schedule: 'cron(30 4 * * ? *)' },
  },
];

let outdir: string;
let built: BuiltApp;
let stack: BackupStack;
let template: Template;
let json: { Resources: Record<string, { Type: string; Properties: any; Metadata?: any }> };

beforeAll(() => {
  outdir = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-cdk-'));
  built = buildApp({ instances: INSTANCES, appProps: { outdir } });
  stack = built.stack;
  // Throws "Validation failed" on any unacknowledged cdk-nag finding.
  const assembly = built.app.synth();
  json = assembly.getStackByName(stack.stackName).template;
  template = Template.fromJSON(json);
}, 180_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}

function resources(type: string): Array<[string, { Properties: any; Metadata?: any }]> {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

/** Every statement of the policies attached to the role of `handler`'s function. */
function statementsOf(handler: HandlerId): Array<{ Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string }> {
  const role = json.Resources[logicalId(stack.functions.byId(handler))].Properties.Role['Fn::GetAtt'][0] as string;
  return resources('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

function actions(statement: { Action: string | string[] }): string[] {
  return ([] as string[]).concat(statement.Action);
}

/** A deployed definition with each function's Fn::GetAtt replaced by its placeholder ARN. */
function deployedDefinition(machine: IConstruct): AslDefinition {
  const arnByLogicalId = new Map(HANDLER_IDS.map((id) => [logicalId(stack.functions.byId(id)), placeholderFunctionArn(id)]));
  const parts = json.Resources[logicalId(machine)].Properties.DefinitionString['Fn::Join'][1] as Array<string | { 'Fn::GetAtt': [string, string] }>;
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const arn = arnByLogicalId.get(part['Fn::GetAtt'][0]);
      if (!arn || part['Fn::GetAtt'][1] !== 'Arn') throw new Error(`unexpected token in definition: ${JSON.stringify(part)}`);
      return arn;
    })
    .join('');
  return JSON.parse(text) as AslDefinition;
}

describe('state machines in the stack', () => {
  it('carry exactly the definitions synthesizeDefinitions returns (same construct code)', () => {
    const local = synthesizeDefinitions();
    expect(deployedDefinition(stack.backup.stateMachine)).toEqual(local.backup);
    expect(deployedDefinition(stack.restore.stateMachine)).toEqual(local.restore);
  });

  it('are valid ASL', () => {
    for (const machine of [stack.backup.stateMachine, stack.restore.stateMachine]) {
      const result = validateAsl(deployedDefinition(machine));
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    }
  });

  it('log errors without execution data and are traced', () => {
    const machines = resources('AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(2);
    for (const [, machine] of machines) {
      expect(machine.Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false, Destinations: [expect.anything()] },
        TracingConfiguration: { Enabled: true },
      });
    }
    // Both log to one group under /aws/vendedlogs/states/ (as AWS asks of Step Functions log
    // groups), named after the stack and unique per stack creation (the stack id's UUID).
    const destinations = machines.map(([, machine]) => machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0]);
    expect(new Set(destinations).size).toBe(1);
    const group = resources('AWS::Logs::LogGroup').find(([id]) => id === destinations[0])![1];
    expect(group.Properties.LogGroupName).toEqual({
      'Fn::Join': ['', [`/aws/vendedlogs/states/${stack.stackName}-`, { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]],
    });
  });
});

describe('functions', () => {
  it('run Node.js 22 with the store, the SSM host runner and its settings in the environment', () => {
    const bucket = logicalId(stack.store.bucket);
    const functions = resources('AWS::Lambda::Function');
    expect(functions).toHaveLength(HANDLER_IDS.length);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' }); // one X-Ray trace with the state machines'
      expect(fn.Properties.Environment.Variables).toMatchObject({
        DBBACKUP_STORE: { 'Fn::Join': ['', ['s3://', { Ref: bucket }]] },
        DBBACKUP_LOG_LEVEL: 'info',
        DBBACKUP_PLATFORM: 'aws',
        DBBACKUP_HOST_RUNNER: 'ssm',
        DBBACKUP_SSM_DOCUMENT: { Ref: logicalId(stack.agentStepDocument) },
        DBBACKUP_HOST_STEP_TIMEOUT_SECONDS: String(6 * 3600),
      });
    }
  });

  it('are bundled by the local esbuild, with etcd3 and its proto files shipped beside the bundle, and load', () => {
    const assetDir = (id: HandlerId) => {
      const key = json.Resources[logicalId(stack.functions.byId(id))].Properties.Code.S3Key as string;
      return path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    };
    for (const id of HANDLER_IDS) {
      expect(existsSync(path.join(assetDir(id), 'index.js'))).toBe(true);
      expect(existsSync(path.join(assetDir(id), 'node_modules/etcd3/proto/rpc.proto'))).toBe(true);
    }
    // Loading one bundle proves the externalised packages resolve from the bundle's node_modules.
    const dir = assetDir('backup/snapshot');
    const loaded = execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(path.join(dir, 'index.js'))}).handler)`], {
      cwd: dir,
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_DEV: 'false' },
    }).toString();
    expect(loaded).toBe('function');
  });
});

describe('backup bucket', () => {
  it('is KMS-encrypted with a rotating customer key, private, versioned, logged, with lifecycle rules', () => {
    const key = logicalId(stack.store.key);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(json.Resources[key].Properties.EnableKeyRotation).toBe(true);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } }, BucketKeyEnabled: true }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(stack.store.accessLogs) }, LogFilePrefix: 'backup-bucket/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'state/agent-results/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('refuses requests without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack.store.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('least privilege', () => {
  it('allows ssm:SendCommand only with the stack\'s agent-step document and only to instances tagged dbbackup:managed=true', () => {
    const sends = resources('AWS::IAM::Policy')
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }>)
      .filter((s) => actions(s).some((a) => a === 'ssm:SendCommand' || a === 'ssm:*' || a === '*'));
    expect(sends.length).toBeGreaterThan(0);
    for (const statement of sends) {
      expect(actions(statement)).toEqual(['ssm:SendCommand']);
      const resource = JSON.stringify(statement.Resource);
      if (resource.includes(':document/')) {
        expect(resource).toContain(`:document/",{"Ref":"${logicalId(stack.agentStepDocument)}"}`);
        expect(statement.Condition).toBeUndefined();
      } else {
        expect(resource).toMatch(/:instance\/\*".*:managed-instance\/\*"/);
        expect(statement.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/dbbackup:managed': 'true' } });
      }
    }
  });

  it('grants no SSM action nobody uses (ssm:ListCommandInvocations)', () => {
    const granted = resources('AWS::IAM::Policy').flatMap(([, p]) => (p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap(actions));
    expect(granted).toEqual(expect.arrayContaining(['ssm:SendCommand', 'ssm:GetCommandInvocation', 'ssm:CancelCommand']));
    expect(granted).not.toContain('ssm:ListCommandInvocations');
  });

  it('gives each function only what its step needs', () => {
    const can = (handler: HandlerId, action: string, resourcePattern?: RegExp) =>
      statementsOf(handler).some((s) => s.Effect === 'Allow' && actions(s).includes(action) && (!resourcePattern || resourcePattern.test(JSON.stringify(s.Resource))));
    const backups = /\/backups\/\*"/;
    const state = /\/state\/\*"/;
    for (const id of HANDLER_IDS) {
      expect({ id, readState: can(id, 's3:GetObject', state), writeState: can(id, 's3:PutObject', state), readBackups: can(id, 's3:GetObject', backups) }).toEqual({
        id,
        readState: true,
        writeState: true,
        readBackups: true,
      });
      for (const s of statementsOf(id)) expect(actions(s).filter((a) => a.endsWith('*') && !a.startsWith('logs:'))).toEqual([]);
    }
    expect(can('backup/finalize', 's3:PutObject', backups)).toBe(true);
    expect(can('backup/prepare', 's3:PutObject', backups)).toBe(true); // run.json
    expect(can('backup/upload', 's3:PutObject', backups)).toBe(false); // the agent uploads, on the host
    expect(can('maintenance/prune', 's3:DeleteObject', backups)).toBe(true);
    const deniesDeletingCompleteBackups = (handler: HandlerId) => statementsOf(handler).some((s) => s.Effect === 'Deny' && actions(s).includes('s3:DeleteObject')
      && /backups\/\*\/manifest\.json/.test(JSON.stringify(s.Resource)) && /backups\/\*\/verification\.json/.test(JSON.stringify(s.Resource)));
    for (const handler of ['backup/prepare', 'backup/finalize', 'backup/cleanup'] as const) expect(deniesDeletingCompleteBackups(handler)).toBe(true);
    // Only finalize completes a backup; no backup step says it is verified or restore-verified.
    const recordPutsDenied = (handler: HandlerId) => statementsOf(handler).filter((s) => s.Effect === 'Deny' && actions(s).includes('s3:PutObject'))
      .flatMap((s) => [s.Resource].flat().map((r) => /backups\/\*\/([a-z]+\.json)/.exec(JSON.stringify(r))?.[1]));
    expect(recordPutsDenied('backup/prepare')).toEqual(['manifest.json', 'verification.json', 'drill.json']);
    expect(recordPutsDenied('backup/cleanup')).toEqual(['manifest.json', 'verification.json', 'drill.json']);
    expect(recordPutsDenied('backup/finalize')).toEqual(['verification.json', 'drill.json']);
    expect(deniesDeletingCompleteBackups('maintenance/prune')).toBe(false);
    expect(can('maintenance/prune', 's3:PutObject', backups)).toBe(false);
    expect(can('restore/fetch-manifest', 's3:PutObject', backups)).toBe(false);
    expect(can('restore/apply', 's3:PutObject', backups)).toBe(false);
    const pool = /\/pool\/\*"/;
    const poolAccess = (id: HandlerId) => ({ read: can(id, 's3:GetObject', pool), write: can(id, 's3:PutObject', pool), delete: can(id, 's3:DeleteObject', pool) });
    for (const id of HANDLER_IDS.filter((h) => h !== 'backup/finalize' && h !== 'maintenance/prune')) expect({ id, ...poolAccess(id) }).toEqual({ id, read: false, write: false, delete: false });
    expect(poolAccess('backup/finalize')).toEqual({ read: true, write: false, delete: false }); // heads every pooled artifact
    expect(poolAccess('maintenance/prune')).toEqual({ read: false, write: false, delete: true }); // the sweep
    expect(can('backup/finalize', 'ssm:SendCommand')).toBe(false);
    expect(can('backup/snapshot', 'ssm:SendCommand')).toBe(true);
    expect(can('restore/report', 'ssm:GetParameter')).toBe(false);
    expect(can('restore/report', 'secretsmanager:GetSecretValue')).toBe(false);
    expect(can('backup/prepare', 'ssm:GetParameter', /parameter\/dbbackup\/\*"/)).toBe(true);
    expect(can('backup/prepare', 'secretsmanager:GetSecretValue', /secret:dbbackup\/\*"/)).toBe(true);
    // The drill path reads backups and writes only drill records beside them.
    const backupWrites = (id: HandlerId) => statementsOf(id).filter((s) => s.Effect === 'Allow' && /\/backups\//.test(JSON.stringify(s.Resource)) && actions(s).some((a) => a !== 's3:GetObject' && a !== 's3:ListBucket'));
    expect(backupWrites('restore/drill-record').map((s) => [actions(s), JSON.stringify(s.Resource)])).toEqual([[['s3:PutObject'], expect.stringMatching(/\/backups\/\*\/drill\.json"/)]]);
    expect(backupWrites('restore/drill-start')).toEqual([]);
    expect(can('restore/drill-record', 'ssm:SendCommand')).toBe(true); // the teardown, on the drill host
    expect(can('restore/drill-record', 'ssm:GetParameter')).toBe(false);
    // A failed restore records the damage it found, as verify would, and writes no other object of a backup.
    expect(backupWrites('restore/cleanup').map((s) => [actions(s), JSON.stringify(s.Resource)])).toEqual([[['s3:PutObject'], expect.stringMatching(/\/backups\/\*\/verification\.json"/)]]);
    for (const id of HANDLER_IDS.filter((h) => h.startsWith('restore/') && h !== 'restore/cleanup' && h !== 'restore/drill-record')) expect({ id, writes: backupWrites(id) }).toEqual({ id, writes: [] });
  });

  it('decrypts secrets only through SSM and Secrets Manager', () => {
    const decrypt = statementsOf('backup/prepare').find((s) => s.Sid === 'DecryptSecrets')!;
    expect(decrypt.Condition).toEqual({
      // The partition's own domain (amazonaws.com.cn in China): a hard-coded one would deny every decryption there.
      StringEquals: { 'kms:ViaService': [{ 'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] }, { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] }] },
    });
  });

  it('refuses an instance whose secret the functions could not read', () => {
    const outside = [{ ...INSTANCES[0], config: { ...INSTANCES[0].config, password: { $secret: 'ssm:/other/app/password' } } }];
    expect(() => buildApp({ instances: outside, skipBundling: true, appProps: { outdir } })).toThrow(/secret 'ssm:\/other\/app\/password' is outside what the functions may read/);
  });
});

describe('schedules', () => {
  it('start the backup state machine once per instance with that instance as input', () => {
    const machine = logicalId(stack.backup.stateMachine);
    const rules = resources('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes(machine));
    expect(rules).toHaveLength(INSTANCES.length);
    // The input names the stack's key by reference: joined, the reference shown as `<LogicalId.Arn>`.
    const inputOf = (schedule: string) => {
      const [, rule] = rules.find(([, r]) => r.Properties.ScheduleExpression === schedule)!;
      const [target] = rule.Properties.Targets as Array<{ Arn: unknown; Input: { 'Fn::Join': [string, unknown[]] } }>;
      expect(target.Arn).toEqual({ Ref: machine });
      return JSON.parse(target.Input['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `<${(part as { 'Fn::GetAtt': string[] })['Fn::GetAtt'].join('.')}>`)).join(''));
    };
    const key = `<${logicalId(stack.store.key)}.Arn>`;
    const encoded = { compression: { codec: 'zstd', level: 3 }, encryption: { kms: key } };
    expect(inputOf('cron(0 3 * * ? *)')).toEqual({ engine: 'etcd', instance: 'main', config: INSTANCES[0].config, rateLimit: 52428800, host: 'i-0123456789abcdef0', ...encoded });
    expect(inputOf('rate(6 hours)')).toEqual({ engine: 'etcd', instance: 'events', config: INSTANCES[1].config, host: 'mi-0123456789abcdef0', ...encoded });
  });
});

describe('drills', () => {
  const drilled = INSTANCES[0];

  it('start the restore state machine in drill mode on each drill\'s schedule, with input the restore accepts', () => {
    const machine = logicalId(stack.restore.stateMachine);
    const rules = resources('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes(machine));
    expect(rules).toHaveLength(1);
    const input = JSON.parse(rules[0][1].Properties.Targets[0].Input);
    expect(rules[0][1].Properties.ScheduleExpression).toBe('cron(0 5 ? * SUN *)');
    expect(input).toEqual({ backupId: 'latest', engine: 'etcd', instance: 'main', host: 'i-0fedcba9876543210', drill: { targetSettings: drilled.drill!.targetSettings } });
    expect(restoreRequestSchema.safeParse(input).success).toBe(true);
  });

  it('run the drill in the restore state machine: scratch target, record, and a record of a failed drill too', () => {
    const states = deployedDefinition(stack.restore.stateMachine).States as Record<string, { Type: string; Choices?: unknown[]; Comment?: string; Next?: string }>;
    expect(states['Scratch target?'].Type).toBe('Choice');
    expect(states['Drill start'].Type).toBe('Parallel');
    expect(states['Record drill'].Comment).toBe('handler:restore/drill-record');
    expect(states['Record failed drill'].Comment).toBe('handler:restore/drill-record');
    expect(states['Record failed drill'].Next).toBe('Restore failed');
  });

  it('alarm when no drill has succeeded for the drill\'s maxAgeHours, missing data breaching, and chart RTO per drilled instance', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'LastGoodDrillAgeHours');
    expect(alarms).toHaveLength(1);
    expect(alarms[0][1].Properties).toMatchObject({
      Namespace: 'DBBackup', Statistic: 'Minimum', Period: 3600, EvaluationPeriods: 168, DatapointsToAlarm: 168, Threshold: 168,
      ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'breaching', AlarmActions: [{ Ref: logicalId(stack.monitoring.topic) }],
    });
    expect(alarms[0][1].Properties.Dimensions).toEqual(expect.arrayContaining([{ Name: 'engine', Value: 'etcd' }, { Name: 'instance', Value: 'main' }]));
    const body = JSON.stringify(resources('AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);
    expect(body).toContain('etcd/main: RTO, measured restore time of each drill');
    expect(body).toContain('RestoreDurationSeconds');
    expect(body).toContain('RestoreBytesPerSecond');
    expect(body).toContain('etcd/main: hours since last good drill');
    expect(body).not.toContain('etcd/events: RTO');
  });

  it('let the drill host read the instance\'s backups and its drill secrets, and write no backup', () => {
    const statements = stack.resolve(stack.hostPolicies.byHost.get('i-0fedcba9876543210')!.document.toJSON()).Statement as Array<{ Sid: string; Effect: string; Action: string | string[]; Resource: unknown }>;
    const sids = statements.filter((s) => s.Effect === 'Allow').map((s) => s.Sid);
    expect(sids).toEqual(expect.arrayContaining(['ReadBackups', 'ReadWriteRestoreRecords', 'ReadOwnParameters']));
    expect(sids).not.toContain('WriteOwnBackups');
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReadBackups')!.Resource)).toContain('/backups/etcd/main/*');
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReadOwnParameters')!.Resource)).toContain('dbbackup/restore/etcd/main/password');
  });
});

describe('alarms and dashboard', () => {
  it('alarm on failed executions of each state machine', () => {
    for (const machine of [stack.backup.stateMachine, stack.restore.stateMachine]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalId(machine) } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: logicalId(stack.monitoring.topic) }],
      });
    }
  });

  it('alarm per instance when the last good backup is older than its RPO, missing data breaching', () => {
    const stale = resources('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'LastGoodBackupAgeHours');
    expect(stale).toHaveLength(INSTANCES.length);
    for (const instance of INSTANCES) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'DBBackup',
        MetricName: 'LastGoodBackupAgeHours',
        Dimensions: Match.arrayEquals([
          { Name: 'engine', Value: instance.engine },
          { Name: 'instance', Value: instance.name },
          { Name: 'service', Value: 'dbbackup' },
        ]),
        Statistic: 'Minimum',
        Period: 3600,
        EvaluationPeriods: instance.rpoHours,
        DatapointsToAlarm: instance.rpoHours,
        Threshold: instance.rpoHours,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: logicalId(stack.monitoring.topic) }],
      });
    }
  });

  it('notify an encrypted, TLS-only topic CloudWatch may publish this account\'s alarms to, and show a dashboard', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    // The topic policy replaces SNS's default one: without an Allow for CloudWatch no alarm would be delivered.
    const fromAlarms = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': Match.anyValue() } };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: fromAlarms }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: fromAlarms })]) },
    });
    const dashboards = resources('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0][1].Properties.DashboardBody);
    for (const instance of INSTANCES) expect(body).toContain(`${instance.engine}/${instance.name}: hours since last good backup`);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(built.app);
    expect(report.violations.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges each finding on a specific construct, with a specific reason', () => {
    const acknowledged: Array<{ path: string; id: string; reason: string }> = [];
    const visit = (construct: IConstruct) => {
      for (const entry of construct.node.metadata) {
        if (entry.type === 'aws:cdk:acknowledged-rules') {
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acknowledged.push({ path: construct.node.path, id, reason });
        }
      }
      construct.node.children.forEach(visit);
    };
    visit(built.app);
    expect(acknowledged.length).toBeGreaterThan(10);
    for (const ack of acknowledged) {
      expect(ack.path).not.toBe(stack.node.path); // never stack-wide
      expect(ack.id).toMatch(/^Annotation::AwsSolutions-(IAM5\[[^\]]+\]|L1|SF1)$/);
      expect(ack.reason.length).toBeGreaterThan(60);
    }
  });
});
