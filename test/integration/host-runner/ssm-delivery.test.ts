/**
 * An offline host fails a step in minutes, not hours: the SSM host runner gives SSM a delivery
 * timeout of its own (5 minutes), apart from the step's execution timeout (hours), and reports a
 * command no host picked up as never delivered.
 */
import { randomUUID } from 'node:crypto';
import { SSMClient, SendCommandCommand } from '@aws-sdk/client-ssm';
import { agentStepDocument, agentStepParameters } from '../../../core/host-runner/agent-document';
import { agentResultKey } from '../../../core/host-runner/agent-result';
import { DEFAULT_DELIVERY_TIMEOUT_SECONDS, SsmHostRunner } from '../../../core/host-runner/ssm-runner';
import type { PendingSubmission } from '../../../core/host-runner/host-runner';
import { pollUntilDone } from '../../fixtures/host-runner/helpers';
import { startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';

const OFFLINE_HOST = 'i-0offline000000002';
const DOCUMENT = 'DbBackup-AgentStep';
let standin: SsmStandin;
let client: SSMClient;

beforeAll(async () => {
  const document = agentStepDocument({ storeUrl: 'file:///nowhere', region: 'us-east-1' });
  standin = await startSsmStandin({ instanceIds: [], offlineInstanceIds: [OFFLINE_HOST], documents: { [DOCUMENT]: document } });
  client = new SSMClient({ ...standin.clientConfig, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await standin.stop();
});

it('gives SSM a delivery timeout of minutes for a step that may run for hours', async () => {
  // Prepare
  const runner = new SsmHostRunner({ client, documentName: DOCUMENT });

  // Act
  const submission = await runner.submit({ host: OFFLINE_HOST, step: 'restore-apply', input: {}, timeoutSeconds: 6 * 3600 });
  await runner.cancel(submission);

  // Assess
  const sent = standin.calls.find((c) => c.operation === 'SendCommand')!.input;
  expect(DEFAULT_DELIVERY_TIMEOUT_SECONDS).toBe(300);
  expect(sent.TimeoutSeconds).toBe(DEFAULT_DELIVERY_TIMEOUT_SECONDS);
  expect((sent.Parameters as Record<string, string[]>).executionTimeout).toEqual([String(6 * 3600)]);
});

it('reports a command the host never picked up as a HOST_STEP_TIMEOUT that says it was never delivered', async () => {
  // Prepare: a command SSM gave up delivering (the stand-in keeps SSM's behaviour, without its 30 s minimum).
  const sent = await client.send(new SendCommandCommand({
    DocumentName: DOCUMENT, InstanceIds: [OFFLINE_HOST], TimeoutSeconds: 1,
    Parameters: agentStepParameters('restore-apply', {}, agentResultKey(OFFLINE_HOST, randomUUID()), 3600),
  }));
  const now = new Date();
  const submission: PendingSubmission = {
    done: false, commandId: sent.Command!.CommandId!, host: OFFLINE_HOST, step: 'restore-apply',
    submittedAt: now.toISOString(), deadline: new Date(now.getTime() + 3600_000).toISOString(),
  };

  // Act
  const { result } = await pollUntilDone(new SsmHostRunner({ client, documentName: DOCUMENT }), submission, 10_000, 100);

  // Assess
  expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_STEP_TIMEOUT', message: expect.stringMatching(/never delivered.*DeliveryTimedOut/) } });
});
