/**
 * The SSM stand-in itself, through the real @aws-sdk/client-ssm: the operations and error shapes
 * the SDK parses, status transitions, SSM's output limits and delivery timeouts.
 */
import {
  CancelCommandCommand, GetCommandInvocationCommand, InvalidCommandId, InvalidInstanceId, InvocationDoesNotExist,
  ListCommandInvocationsCommand, SSMClient, SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { SSM_LIMITS, startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';

const HOST = 'i-0standin000000001';
const OFFLINE = 'i-0offline00000002';

describe('SSM stand-in', () => {
  let standin: SsmStandin;
  let client: SSMClient;

  beforeEach(async () => {
    standin = await startSsmStandin({ instanceIds: [HOST], offlineInstanceIds: [OFFLINE] });
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
    const unknownInstance = send(['true'], {}, 'i-0nope');
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
});
