/**
 * The agent install in a bare stack: the bundle is a real asset (built by the local bundling), the
 * install document downloads exactly that asset and names the release by its hash, the association
 * runs it on every tagged host, and a host's role may read that one object.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentInstall } from '../../../infra/agent-install';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('AgentInstall', () => {
  let outdir: string;
  let install: AgentInstall;
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-agent-install-'));
    const app = new App({ outdir });
    stack = new Stack(app, 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
    install = new AgentInstall(stack, 'AgentInstall', { projectRoot: REPO, managedTag: { key: 'dbbackup:managed', value: 'true' } });
    app.synth();
    template = Template.fromStack(stack);
  }, 120_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('publishes the bundle as one .tgz asset', () => {
    // Assess
    expect(install.bundle.s3ObjectKey).toMatch(/\.tgz$/);
    expect(existsSync(path.join(outdir, `asset.${install.bundle.assetHash}.tgz`))).toBe(true);
  });

  it('downloads that asset and names the release by its hash', () => {
    // Act
    const [document] = Object.values(template.findResources('AWS::SSM::Document')) as Array<{ Properties: { Content: any } }>;
    const [download, script] = document.Properties.Content.mainSteps;

    // Assess
    expect(download).toMatchObject({ action: 'aws:downloadContent', inputs: { sourceType: 'S3' } });
    expect(JSON.stringify(download.inputs.sourceInfo)).toContain(`${install.bundle.assetHash}.tgz`);
    expect(script.action).toBe('aws:runShellScript');
    expect(script.inputs.runCommand).toContain(`release="$root/releases/${install.bundle.assetHash}"`);
  });

  it('runs on every tagged host, on changes and once a day', () => {
    // Assess
    template.hasResourceProperties('AWS::SSM::Association', {
      Name: { Ref: stack.getLogicalId(install.node.defaultChild as never) },
      Targets: [{ Key: 'tag:dbbackup:managed', Values: ['true'] }],
      ScheduleExpression: 'rate(1 day)',
    });
  });

  it('lets a host read the bundle object and nothing else', () => {
    // Act
    const [statement] = install.hostStatements().map((s) => stack.resolve(s.toStatementJson()));

    // Assess
    expect(statement.Action).toBe('s3:GetObject');
    expect(JSON.stringify(statement.Resource)).toContain(`/${install.bundle.assetHash}.tgz`);
  });
});
