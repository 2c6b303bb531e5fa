/**
 * The CDK app as `npx cdk synth` builds it (cdk.json → infra/app.ts → buildApp), without bundling
 * (fast): it reads the instances file, and cdk-nag really runs on it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { backupRequestSchema } from '../../../core/backup/backup-state';
import { restoreRequestSchema } from '../../../core/restore/restore-state';
import { buildApp } from '../../../infra/build-app';
import { stalenessWindow } from '../../../infra/monitoring';

const projectRoot = path.resolve(__dirname, '../../..');
/** Where the apps' cloud assemblies go (removed at the end instead of piling up in the temp dir). */
const outdir = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('CDK app', () => {
  it('is what cdk.json runs', () => {
    const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as { app: string };
    expect(cdkJson.app).toBe('npx tsx infra/app.ts');
    expect(readFileSync(path.join(projectRoot, 'infra/app.ts'), 'utf8')).toMatch(/buildApp\(\)\.app\.synth\(\)/);
  });

  it('builds the stack from dbbackup.instances.json: a backup, a drill and a prune schedule, a staleness and a drill alarm per instance', () => {
    const { stack } = buildApp({ skipBundling: true, appProps: { outdir } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 3);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 5 * * ? *)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'LastGoodDrillAgeHours', Threshold: 50 });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 3 * * ? *)' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)', Description: 'dbbackup: prune etcd/main on rate(1 day)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'LastGoodBackupAgeHours', Threshold: 26 });
    // The key schedules encrypt with, for a backup started by hand (`remote backup --encrypt-kms`): the one the schedule's input names.
    const keyOutput = Object.values(template.findOutputs('ArtifactKeyArn'))[0] as { Value: unknown };
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => JSON.stringify(r).includes('encryption'));
    expect(JSON.stringify(rule)).toContain(JSON.stringify(keyOutput.Value));
  });

  it('is bound to no region the deployer did not name (the CDK CLI defaults CDK_DEFAULT_REGION to us-east-1)', () => {
    // Prepare
    const saved = { region: process.env.CDK_DEFAULT_REGION, account: process.env.CDK_DEFAULT_ACCOUNT };
    Object.assign(process.env, { CDK_DEFAULT_REGION: 'us-east-1', CDK_DEFAULT_ACCOUNT: '123456789012' });
    try {
      // Act
      const agnostic = buildApp({ skipBundling: true, appProps: { outdir } }).stack;
      const named = buildApp({ skipBundling: true, appProps: { outdir, context: { region: 'eu-west-1' } } }).stack;

      // Assess
      expect(JSON.stringify(Template.fromStack(agnostic).toJSON())).not.toContain('us-east-1');
      expect(agnostic.resolve(agnostic.region)).toEqual({ Ref: 'AWS::Region' });
      expect(named.region).toBe('eu-west-1');
    } finally {
      for (const [key, value] of [['CDK_DEFAULT_REGION', saved.region], ['CDK_DEFAULT_ACCOUNT', saved.account]] as const) {
        if (value === undefined) delete process.env[key]; else process.env[key] = value;
      }
    }
  });

  it("has console examples that name an instance of the instances file, on its host, with its secret", () => {
    const read = (file: string) => JSON.parse(readFileSync(path.join(projectRoot, file), 'utf8'));
    const { instances } = read('dbbackup.instances.json') as { instances: Array<{ name: string; engine: string; host: string; config: unknown }> };
    for (const file of ['examples/console/backup-input.json', 'examples/console/restore-input.json', 'examples/console/drill-input.json']) {
      const input = read(file) as { engine: string; instance: string; host: string; config?: unknown; drill?: unknown };
      const instance = instances.find((i) => i.engine === input.engine && i.name === input.instance) as { host: string; config: unknown; drill?: { host: string } } | undefined;
      // A drill runs on the drill's host, anything else on the instance's.
      expect({ file, found: instance !== undefined, host: input.drill ? instance?.drill?.host : instance?.host }).toEqual({ file, found: true, host: input.host });
      if (input.config) expect(input.config).toEqual(instance?.config);
      if (input.config) expect(backupRequestSchema.safeParse(input).success).toBe(true);
      if (!input.config) expect(restoreRequestSchema.safeParse(input).success).toBe(true);
    }
  });

  it('takes the instances file from the instancesFile context', () => {
    expect(() => buildApp({ skipBundling: true, appProps: { outdir, context: { instancesFile: 'no-such-instances.json' } } })).toThrow(
      /no-such-instances\.json is not a valid instances file/,
    );
  });

  it('fails synth on any finding nobody acknowledged', () => {
    const { app, stack } = buildApp({ skipBundling: true, appProps: { outdir } });
    new s3.Bucket(stack, 'Careless'); // no TLS enforcement, no access logs
    const report = new AwsSolutionsChecks(undefined).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
  });
});

describe('stalenessWindow', () => {
  it('spans the RPO in hourly periods, within what CloudWatch evaluates', () => {
    expect(stalenessWindow(26)).toEqual({ period: expect.anything(), evaluationPeriods: 26 });
    expect(stalenessWindow(26).period.toSeconds()).toBe(3600);
    expect(stalenessWindow(1.5).evaluationPeriods).toBe(2);
    expect(() => stalenessWindow(169)).toThrow(/1 to 168/);
  });
});
