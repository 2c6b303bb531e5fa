/**
 * The agent-step document in a bare stack: a Command document whose parameters SSM validates
 * (step from the fixed list, base64 input, result key of one shape, numeric timeout), and whose
 * one shell line runs the agent on the stack's bucket in the stack's region.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AGENT_STEP_NAMES } from '../../../core/agent/agent-step-names';
import { AgentStepDocument } from '../../../infra/agent-step-document';

/** A CloudFormation string as text, each `Ref` written as `<Ref:id>`. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(text).join(join[0]);
  const ref = (value as { Ref?: string }).Ref;
  if (ref) return `<Ref:${ref}>`;
  throw new Error(`unexpected CloudFormation value ${JSON.stringify(value)}`);
}

function synth(agentCommand?: string): { content: any; template: Template } {
  const stack = new Stack(new App(), 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bucket = new s3.Bucket(stack, 'Store');
  new AgentStepDocument(stack, 'AgentStep', { bucket, agentCommand });
  const template = Template.fromStack(stack);
  const [document] = Object.values(template.findResources('AWS::SSM::Document')) as Array<{ Properties: { DocumentType: string; Content: any } }>;
  expect(document.Properties.DocumentType).toBe('Command');
  return { content: document.Properties.Content, template };
}

describe('AgentStepDocument', () => {
  it('declares the four parameters SSM validates', () => {
    // Act
    const { content } = synth();

    // Assess
    expect(content.schemaVersion).toBe('2.2');
    expect(Object.keys(content.parameters).sort()).toEqual(['executionTimeout', 'input', 'resultKey', 'step']);
    expect(content.parameters.step.allowedValues).toEqual([...AGENT_STEP_NAMES]);
    const matches = (name: string, value: string) => new RegExp(content.parameters[name].allowedPattern).test(value);
    expect(matches('input', Buffer.from('{"backupId":"b-1"}').toString('base64'))).toBe(true);
    expect(matches('input', "e30=' ; reboot")).toBe(false);
    expect(matches('resultKey', 'state/agent-results/i-0123456789abcdef0/0f8b1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.json')).toBe(true);
    expect(matches('resultKey', 'state/agent-results/../0f8b1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.json')).toBe(false);
    expect(matches('resultKey', 'backups/etcd/main/b-1/manifest.json')).toBe(false);
    expect(matches('executionTimeout', '21600')).toBe(true);
    expect(matches('executionTimeout', '0')).toBe(false);
  });

  it('runs the agent on the stack\'s bucket in the stack\'s region, the parameters only as quoted words', () => {
    // Act
    const { content } = synth('/opt/dbbackup/bin/dbbackup');

    // Assess
    const [step] = content.mainSteps;
    expect(step).toMatchObject({ action: 'aws:runShellScript', inputs: { timeoutSeconds: '{{ executionTimeout }}' } });
    expect(step.inputs.runCommand).toHaveLength(1);
    expect(text(step.inputs.runCommand[0])).toMatch(
      /^AWS_REGION='eu-west-1' \/opt\/dbbackup\/bin\/dbbackup --store 's3:\/\/<Ref:Store\w+>' agent '\{\{ step \}\}' --input-base64 '\{\{ input \}\}' --result-key '\{\{ resultKey \}\}'$/,
    );
  });
});
