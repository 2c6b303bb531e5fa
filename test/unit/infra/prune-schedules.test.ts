/** A scheduled prune per instance: one rule each, on its retention schedule, starting the prune function with its retention. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { buildApp, type BuiltApp } from '../../../infra/build-app';
import type { InstanceInput } from '../../../infra/instances';

const INSTANCES: InstanceInput[] = [
  {
    name: 'main', engine: 'etcd', host: 'i-0aaaaaaaaaaaaaaaa', config: { endpoints: ['https://etcd-0:2379'] },
    schedule: 'cron(0 3 * * ? *)', rpoHours: 26, retention: { keepLast: 7, maxAgeDays: 30 },
  },
  {
    name: 'shop', engine: 'mysql', host: 'i-0bbbbbbbbbbbbbbbb', config: { user: 'backup' },
    schedule: 'rate(6 hours)', rpoHours: 8, retention: { maxAgeDays: 14, schedule: 'cron(30 4 * * ? *)' },
  },
];

const outdir = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-cdk-prune-'));
let built: BuiltApp;
let template: Template;
beforeAll(() => {
  built = buildApp({ instances: INSTANCES, skipBundling: true, appProps: { outdir } });
  template = Template.fromStack(built.stack);
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('scheduled prune', () => {
  it('runs once per instance on its retention schedule, with its retention as the input of the prune function', () => {
    const prune = Stack.of(built.stack).resolve((built.stack.functions.maintenance.prune.node.defaultChild as CfnElement).logicalId) as string;
    const target = (input: unknown) => [Match.objectLike({ Arn: { 'Fn::GetAtt': [prune, 'Arn'] }, Input: JSON.stringify(input) })];

    expect(built.stack.pruneSchedules.rules.size).toBe(INSTANCES.length);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)', Targets: target({ engine: 'etcd', instance: 'main', keepLast: 7, maxAgeDays: 30 }) });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(30 4 * * ? *)', Targets: target({ engine: 'mysql', instance: 'shop', maxAgeDays: 14 }) });
  });

  it('runs in a function that may read and delete backups, but not write them', () => {
    const policy = built.stack.functions.maintenance.prune.role!.node.tryFindChild('DefaultPolicy') as iam.Policy;
    const statements = Stack.of(built.stack).resolve(policy.document.toJSON()).Statement as Array<{ Sid?: string; Action: string | string[] }>;
    const backups = statements.find((s) => s.Sid === 'ReadDeleteBackups')!;

    expect(backups.Action).toEqual(['s3:GetObject', 's3:DeleteObject']);
    expect(statements.some((s) => s.Sid === 'ReadWriteBackups')).toBe(false);
  });

  it('may list and delete pool objects (the sweep), never read or write them', () => {
    const policy = built.stack.functions.maintenance.prune.role!.node.tryFindChild('DefaultPolicy') as iam.Policy;
    const statements = Stack.of(built.stack).resolve(policy.document.toJSON()).Statement as Array<{ Sid?: string; Action: string | string[]; Resource: unknown; Condition?: { StringLike?: Record<string, string[]> } }>;
    const onPool = statements.filter((s) => JSON.stringify(s.Resource).includes('/pool/*'));

    expect(onPool.map((s) => [s.Sid, s.Action])).toEqual([['SweepPools', 's3:DeleteObject']]);
    expect(statements.find((s) => s.Sid === 'ListStorePrefixes')?.Condition?.StringLike?.['s3:prefix']).toEqual(['backups/*', 'state/*', 'pool/*']);
  });
});
