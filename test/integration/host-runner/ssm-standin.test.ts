/**
 * The SSM stand-in itself, through the real @aws-sdk/client-ssm: the operations and error shapes
 * the SDK parses, status transitions, SSM's output limits and delivery timeouts, what it checks
 * before running (region, document, parameters) and the environment it runs scripts in.
 */
import {
  CancelCommandCommand, GetCommandInvocationCommand, InvalidCommandId, InvalidInstanceId, InvocationDoesNotExist,
  ListCommandInvocationsCommand, SSMClient, SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { agentStepDocument } from '../../../core/host-runner/agent-document';
import { SSM_LIMITS, startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';

const HOST = 'i-0standin000000001';
const OFFLINE = 'i-0offline000000002';
const DOCUMENT = 'DbBackup-AgentStep';
const RESULT_KEY = 'state/agent-results/i-0standin000000001/0f8b1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.json';

describe('SSM stand-in', () => {
  let standin: SsmStandin;
  let client: SSMClient;

  beforeEach(async () => {
    const document = agentStepDocument({ storeUrl: 's3://bucket', region: 'us-east-1', agentCommand: 'echo' });
    standin = await startSsmStandin({ instanceIds: [HOST], offlineInstanceIds: [OFFLINE], documents: { [DOCUMENT]: document } });
    client = new SSMClient({ ...standin.clientConfig, maxAttempts: 1 });
  });

  afterEach(async () => {
    client.destroy();
    await standin.stop();
  });

  function send(commands: string[], extra: Record<string, unknown> = {}, host = HOST) {
    return client.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [host], Parameters: { commands }, ...extra }));
  }

  it('runs the script and reports Success with its output, timestamps parsed by the SDK', async () => {
    // Prepare
    const sent = await send(['echo hello', 'echo oops >&2']);
    const commandId = sent.Command?.CommandId ?? '';

    // Act
    await standin.waitForEnd(commandId, HOST);
    const invocation = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: HOST }));
    const listed = await client.send(new ListCommandInvocationsCommand({ CommandId: commandId, Details: true }));

    // Assess
    expect(sent.Command?.RequestedDateTime).toBeInstanceOf(Date);
    expect(invocation).toMatchObject({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: 'hello\n', StandardErrorContent: 'oops\n' });
    expect(listed.CommandInvocations).toHaveLength(1);
    expect(listed.CommandInvocations?.[0]).toMatchObject({ CommandId: commandId, InstanceId: HOST, Status: 'Success' });
    expect(listed.CommandInvocations?.[0].CommandPlugins?.[0]).toMatchObject({ Name: 'aws:runShellScript', ResponseCode: 0, Output: 'hello\n' });
    expect(listed.CommandInvocations?.[0].CommandPlugins?.[0].ResponseFinishDateTime).toBeInstanceOf(Date);
  });

  it('reports Failed with the exit code, and keeps only the first 24 000 / 8 000 characters of stdout / stderr', async () => {
    // Prepare
    const sent = await send(["head -c 30000 /dev/zero | tr '\\0' o", "head -c 9000 /dev/zero | tr '\\0' e >&2", 'exit 4']);
    const commandId = sent.Command?.CommandId ?? '';

    // Act
    await standin.waitForEnd(commandId);
    const invocation = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: HOST }));

    // Assess
    expect(invocation).toMatchObject({ Status: 'Failed', ResponseCode: 4 });
    expect(invocation.StandardOutputContent).toHaveLength(SSM_LIMITS.stdout);
    expect(invocation.StandardErrorContent).toHaveLength(SSM_LIMITS.stderr);
  });

  it('stops a script at its executionTimeout with TimedOut / ExecutionTimedOut', async () => {
    // Prepare
    const sent = await send(['sleep 30'], { Parameters: { commands: ['sleep 30'], executionTimeout: ['1'] } });
    const commandId = sent.Command?.CommandId ?? '';

    // Act
    const ended = await standin.waitForEnd(commandId, HOST, 10_000);

    // Assess
    expect(ended).toMatchObject({ status: 'TimedOut', statusDetails: 'ExecutionTimedOut' });
  });

  it('times out delivery to an offline instance after TimeoutSeconds (DeliveryTimedOut)', async () => {
    // Prepare
    const sent = await send(['echo never'], { TimeoutSeconds: 1 }, OFFLINE);
    const commandId = sent.Command?.CommandId ?? '';
    const pending = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: OFFLINE }));

    // Act
    await standin.waitForEnd(commandId, OFFLINE, 10_000);
    const invocation = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: OFFLINE }));

    // Assess
    expect(pending).toMatchObject({ Status: 'Pending', ResponseCode: -1 });
    expect(invocation).toMatchObject({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', StandardOutputContent: '' });
  });

  it('answers with the modeled SDK exceptions for unknown instances, invocations and commands', async () => {
    // Act
    const unknownInstance = send(['true'], {}, 'i-0123456789abcdef9');
    const unknownInvocation = client.send(new GetCommandInvocationCommand({ CommandId: '00000000-0000-0000-0000-000000000000', InstanceId: HOST }));
    const unknownCancel = client.send(new CancelCommandCommand({ CommandId: '00000000-0000-0000-0000-000000000000' }));

    // Assess
    await expect(unknownInstance).rejects.toBeInstanceOf(InvalidInstanceId);
    await expect(unknownInvocation).rejects.toBeInstanceOf(InvocationDoesNotExist);
    await expect(unknownCancel).rejects.toBeInstanceOf(InvalidCommandId);
    expect(standin.calls.map((c) => [c.operation, c.error])).toEqual([
      ['SendCommand', 'InvalidInstanceId'],
      ['GetCommandInvocation', 'InvocationDoesNotExist'],
      ['CancelCommand', 'InvalidCommandId'],
    ]);
  });

  it('refuses, as SSM does, an instance id its model does not allow, and more than 50 ids, before running anything', async () => {
    // Act: i- and 12 digits (EC2 ids have 8 or 17), mi- and 8 (17), an address, a 16-character id to GetCommandInvocation, 51 ids
    const malformed = await Promise.all(['i-0123456789ab', 'mi-01234567', '10.0.1.12'].map((id) => send(['true'], {}, id).catch((e: unknown) => e)));
    const invocation = await client.send(new GetCommandInvocationCommand({ CommandId: '00000000-0000-0000-0000-000000000000', InstanceId: 'i-083e1601960282cd' })).catch((e: unknown) => e);
    const many = await client.send(new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript', InstanceIds: Array.from({ length: 51 }, () => HOST), Parameters: { commands: ['true'] },
    })).catch((e: unknown) => e);

    // Assess
    for (const [error, id] of [[malformed[0], 'i-0123456789ab'], [malformed[1], 'mi-01234567'], [malformed[2], '10.0.1.12']] as const) {
      expect(error).toMatchObject({ name: 'ValidationException' });
      expect((error as Error).message).toBe(`1 validation error detected: Value '[${id}]' at 'instanceIds' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 20, Member must have length greater than or equal to 10, Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)]`);
    }
    expect(invocation).toMatchObject({ name: 'ValidationException', message: expect.stringContaining("Value 'i-083e1601960282cd' at 'instanceId' failed to satisfy constraint") });
    expect(many).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Member must have length less than or equal to 50') });
    expect(standin.calls.every((c) => c.error === 'ValidationException')).toBe(true);
  });

  it('cancels a running script: status Cancelled', async () => {
    // Prepare
    const sent = await send(['sleep 30']);
    const commandId = sent.Command?.CommandId ?? '';

    // Act
    await client.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [HOST] }));
    const invocation = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: HOST }));

    // Assess
    expect(invocation.Status).toBe('Cancelled');
  });

  it('runs a script with the SSM agent\'s environment only: no AWS_REGION, none of this process\'s variables', async () => {
    // Prepare
    process.env.DBBACKUP_STANDIN_PROBE = 'leaked';
    const sent = await send(['env']);
    delete process.env.DBBACKUP_STANDIN_PROBE;
    const commandId = sent.Command?.CommandId ?? '';

    // Act
    const ended = await standin.waitForEnd(commandId, HOST);

    // Assess
    const env = Object.fromEntries(ended.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    const shellOwn = new Set(['PWD', 'SHLVL', '_', 'OLDPWD']);
    expect(Object.keys(env).filter((name) => !shellOwn.has(name)).sort()).toEqual(['AWS_SSM_INSTANCE_ID', 'AWS_SSM_REGION_NAME', 'HOME', 'PATH']);
    expect(env).toMatchObject({ AWS_SSM_REGION_NAME: 'us-east-1', AWS_SSM_INSTANCE_ID: HOST });
  });

  it('refuses a request signed for another region, as a regional endpoint does', async () => {
    // Prepare
    const elsewhere = new SSMClient({ ...standin.clientConfig, region: 'eu-west-1', maxAttempts: 1 });

    // Act
    const sending = elsewhere.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [HOST], Parameters: { commands: ['true'] } }));

    // Assess
    await expect(sending).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    elsewhere.destroy();
  });

  it.each([
    ['an unknown document', 'AWS-RunPowerShellScript', {}, 'InvalidDocument'],
    ['a step outside allowedValues', DOCUMENT, { step: ['rm-rf'], input: ['e30='], resultKey: [RESULT_KEY] }, 'InvalidParameters'],
    ['an input that is not base64', DOCUMENT, { step: ['backup-snapshot'], input: ["e30=' ; reboot ; '"], resultKey: [RESULT_KEY] }, 'InvalidParameters'],
    ['a result key outside its pattern', DOCUMENT, { step: ['backup-snapshot'], input: ['e30='], resultKey: ['../../etc/cron.d/x'] }, 'InvalidParameters'],
    ['a parameter the document does not declare', DOCUMENT, { step: ['backup-snapshot'], input: ['e30='], resultKey: [RESULT_KEY], commands: ['reboot'] }, 'InvalidParameters'],
    ['a missing required parameter', DOCUMENT, { step: ['backup-snapshot'], resultKey: [RESULT_KEY] }, 'InvalidParameters'],
    ['two values for a String parameter', DOCUMENT, { step: ['backup-snapshot', 'backup-upload'], input: ['e30='], resultKey: [RESULT_KEY] }, 'InvalidParameters'],
    ['parameters over 48 KB', DOCUMENT, { step: ['backup-snapshot'], input: ['A'.repeat(50_000)], resultKey: [RESULT_KEY] }, 'InvalidParameters'],
  ])('refuses %s before anything runs, as SSM does', async (_case, documentName, parameters, error) => {
    // Act
    const sending = client.send(new SendCommandCommand({ DocumentName: documentName, InstanceIds: [HOST], Parameters: parameters as Record<string, string[]> }));

    // Assess
    await expect(sending).rejects.toMatchObject({ name: error });
    expect(standin.calls.map((c) => c.error)).toEqual([error]);
  });

  it('runs the agent-step document with its parameters put into the script', async () => {
    // Prepare
    const parameters = { step: ['backup-upload'], input: ['e30='], resultKey: [RESULT_KEY], executionTimeout: ['1'] };

    // Act
    const sent = await client.send(new SendCommandCommand({ DocumentName: DOCUMENT, InstanceIds: [HOST], Parameters: parameters }));
    const ended = await standin.waitForEnd(sent.Command?.CommandId ?? '', HOST);

    // Assess
    expect(ended).toMatchObject({ status: 'Success' });
    expect(ended.stdout).toBe(`--store s3://bucket agent backup-upload --input-base64 e30= --result-key ${RESULT_KEY}\n`);
  });
});
