/**
 * The SSM host runner through the real @aws-sdk/client-ssm against the SSM stand-in, which checks
 * each command against the project's agent-step document and runs it on this machine. The agent
 * is the fake agent (same contract as `dbbackup agent`); results too large for SSM's stdout are
 * read back from a real LocalDirectoryStore.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PendingSubmission } from '../../../core/host-runner/host-runner';
import { AGENT_RESULTS_PREFIX } from '../../../core/host-runner/agent-result';
import { agentStepDocument, shellQuote } from '../../../core/host-runner/agent-document';
import { SSM_STDOUT_LIMIT } from '../../../core/host-runner/agent-result';
import { SsmHostRunner, type SsmRunnerOptions } from '../../../core/host-runner/ssm-runner';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { FAKE_AGENT, pollUntilDone, waitForExit } from '../../fixtures/host-runner/helpers';
import { startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';
import { tempDir } from '../../harness/test-run';

const HOST = 'i-0standin000000001';
const OFFLINE_HOST = 'i-0offline000000002';
const DOCUMENT = 'DbBackup-AgentStep';
const FAKE_AGENT_COMMAND = `${shellQuote(process.execPath)} ${shellQuote(FAKE_AGENT)}`;

describe('SsmHostRunner against the SSM stand-in', () => {
  let standin: SsmStandin;
  let storeRoot: string;
  let store: LocalDirectoryStore;
  let client: SSMClient;

  /** The stand-in, knowing the agent-step document as the stack would deploy it (with the fake agent). */
  function startStandin(options: Parameters<typeof startSsmStandin>[0] = {}): Promise<SsmStandin> {
    const document = agentStepDocument({ storeUrl: store.url, region: 'us-east-1', agentCommand: FAKE_AGENT_COMMAND });
    return startSsmStandin({ instanceIds: [HOST], documents: { [DOCUMENT]: document }, ...options });
  }

  beforeEach(async () => {
    storeRoot = await tempDir('ssm-runner-store');
    store = new LocalDirectoryStore(storeRoot);
    standin = await startStandin({ offlineInstanceIds: [OFFLINE_HOST] });
    client = new SSMClient({ ...standin.clientConfig, maxAttempts: 1 });
  });

  afterEach(async () => {
    client.destroy();
    await standin.stop();
    await rm(storeRoot, { recursive: true, force: true });
  });

  function makeRunner(overrides: Partial<SsmRunnerOptions> = {}): SsmHostRunner {
    return new SsmHostRunner({
      client,
      documentName: DOCUMENT,
      resultStore: store,
      deadlineGraceSeconds: 20,
      ...overrides,
    });
  }

  function sent(): Record<string, unknown> {
    const call = standin.calls.find((c) => c.operation === 'SendCommand');
    if (!call) throw new Error('no SendCommand call');
    return call.input;
  }

  it('sends the agent-step document with its four parameters, and parses the AgentResult, the input surviving intact', async () => {
    // Prepare
    const runner = makeRunner({ outputS3BucketName: 'ssm-output', outputS3KeyPrefix: 'runs' });
    const input = { backupId: 'b-1', note: `it's "$HOME"; rm -rf / \`whoami\` \n ünïcode` };

    // Act
    const submission = await runner.submit({ host: HOST, step: 'backup-snapshot', input, timeoutSeconds: 60 });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(submission).toMatchObject({ done: false, host: HOST, step: 'backup-snapshot' });
    const pending = submission as PendingSubmission;
    expect(pending.resultKey).toMatch(new RegExp(`^${AGENT_RESULTS_PREFIX}${pending.host}/[0-9a-f-]{36}\\.json$`));
    expect(Date.parse(pending.deadline) - Date.parse(pending.submittedAt)).toBe(80_000);
    expect(result).toEqual({ ok: true, output: { step: 'backup-snapshot', echo: input } });
    const request = sent();
    expect(request).toMatchObject({
      DocumentName: DOCUMENT,
      InstanceIds: [HOST],
      TimeoutSeconds: 60,
      OutputS3BucketName: 'ssm-output',
      OutputS3KeyPrefix: 'runs',
    });
    expect(request.Parameters).toEqual({
      step: ['backup-snapshot'],
      input: [Buffer.from(JSON.stringify(input)).toString('base64')],
      resultKey: [pending.resultKey],
      executionTimeout: ['60'],
    });
    const script = standin.invocation(pending.commandId, HOST)?.script ?? '';
    expect(script).toContain(`agent 'backup-snapshot' --input-base64 '`);
    expect(script).toContain(`--store ${shellQuote(store.url)}`);
    expect(script).not.toContain('rm -rf');
    expect(standin.calls.some((c) => c.operation === 'GetCommandInvocation')).toBe(true);
  });

  it('takes the last JSON line when the agent printed other lines first', async () => {
    // Prepare
    const runner = makeRunner({ resultStore: undefined });

    // Act
    const submission = await runner.submit({ host: HOST, step: 'backup-validate', input: { behaviour: 'noisy' }, timeoutSeconds: 60 });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(result).toEqual({ ok: true, output: { step: 'backup-validate', echo: { behaviour: 'noisy' } } });
  });

  it.each([
    ['fail-transient', 'TransientError', 'ETCD_UNAVAILABLE', 3],
    ['fail-permanent', 'PermanentError', 'CHECKSUM_MISMATCH', 1],
  ])('preserves the agent error name of a failing command (%s)', async (behaviour, name, code, exitCode) => {
    // Prepare
    const runner = makeRunner();

    // Act
    const submission = await runner.submit({ host: HOST, step: 'backup-upload', input: { behaviour }, timeoutSeconds: 60 });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name, code } });
    const invocation = standin.invocation((submission as PendingSubmission).commandId, HOST);
    expect(invocation).toMatchObject({ status: 'Failed', responseCode: exitCode });
  });

  it('reports a command that crashed without a result as HOST_COMMAND_FAILED with the exit code and stderr', async () => {
    // Prepare
    const runner = makeRunner();
    const stderr = 'Error: Cannot find module @mariadb/backup\n    at load (agent.js:1:1)\n';

    // Act
    const submission = await runner.submit({ host: HOST, step: 'backup-snapshot', input: { behaviour: 'crash', stderr }, timeoutSeconds: 60 });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_COMMAND_FAILED' } });
    const message = result.ok ? '' : result.error.message;
    expect(message).toContain('exit code 7');
    expect(message).toContain('Cannot find module @mariadb/backup');
  });

  it('reports a command SSM stopped at its execution timeout as HOST_STEP_TIMEOUT and the process is gone', async () => {
    // Prepare
    const runner = makeRunner({ deadlineGraceSeconds: 30 });
    const pidFile = path.join(storeRoot, 'agent.pid');

    // Act
    const submission = await runner.submit({ host: HOST, step: 'backup-upload', input: { behaviour: 'sleep', seconds: 60, pidFile }, timeoutSeconds: 1 });
    const { result } = await pollUntilDone(runner, submission, 15_000, 100);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_STEP_TIMEOUT' } });
    expect(result.ok ? '' : result.error.message).toContain('execution timeout');
    const invocation = standin.invocation((submission as PendingSubmission).commandId, HOST);
    expect(invocation).toMatchObject({ status: 'TimedOut', statusDetails: 'ExecutionTimedOut' });
    expect(await waitForExit(Number(await readFile(pidFile, 'utf8')))).toBe(true);
    expect(standin.calls.some((c) => c.operation === 'CancelCommand')).toBe(false);
  });

  it('cancels a command still pending at its deadline (host agent offline) and reports HOST_STEP_TIMEOUT', async () => {
    // Prepare
    const runner = makeRunner({ deadlineGraceSeconds: 0 });

    // Act
    const submission = await runner.submit({ host: OFFLINE_HOST, step: 'backup-snapshot', input: {}, timeoutSeconds: 1 });
    const first = await runner.poll(submission);
    const { result } = await pollUntilDone(runner, submission, 10_000, 100);

    // Assess
    expect(first).toEqual({ done: false });
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_STEP_TIMEOUT' } });
    const cancel = standin.calls.find((c) => c.operation === 'CancelCommand');
    expect(cancel?.input).toEqual({ CommandId: (submission as PendingSubmission).commandId, InstanceIds: [OFFLINE_HOST] });
    expect(standin.invocation((submission as PendingSubmission).commandId, OFFLINE_HOST)?.status).toBe('Cancelled');
  });

  it('refuses an unknown instance id with a clear PermanentError HOST_NOT_FOUND', async () => {
    // Prepare
    const runner = makeRunner();

    // Act
    const submitting = runner.submit({ host: 'i-0doesnotexist0000', step: 'backup-snapshot', input: {}, timeoutSeconds: 60 });

    // Assess
    await expect(submitting).rejects.toMatchObject({ name: 'PermanentError', code: 'HOST_NOT_FOUND' });
    await expect(submitting).rejects.toThrow(/i-0doesnotexist0000 is not a managed instance/);
    expect(standin.calls.map((c) => c.error)).toEqual(['InvalidInstanceId']);
  });

  it('refuses a step without a host before calling SSM', async () => {
    // Prepare
    const runner = makeRunner();

    // Act
    const submitting = runner.submit({ step: 'backup-snapshot', input: {}, timeoutSeconds: 60 });

    // Assess
    await expect(submitting).rejects.toMatchObject({ name: 'PermanentError', code: 'INVALID_INPUT' });
    expect(standin.calls).toHaveLength(0);
  });

  it('reads a result larger than SSM keeps of stdout back from the store at the result key', async () => {
    // Prepare
    const runner = makeRunner();
    const size = 60_000;

    // Act
    const submission = await runner.submit({ host: HOST, step: 'backup-validate', input: { behaviour: 'big-output', size }, timeoutSeconds: 60 });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    const pending = submission as PendingSubmission;
    const invocation = standin.invocation(pending.commandId, HOST);
    expect(invocation?.stdout.length).toBeGreaterThan(size);
    expect(result.ok).toBe(true);
    expect(result.ok && (result.output as { blob: string }).blob).toBe('x'.repeat(size));
    expect(await store.head(pending.resultKey ?? '')).toBeDefined();
  });

  it('names the truncation when a large result cannot be read back (no store reader)', async () => {
    // Prepare
    const runner = makeRunner({ resultStore: undefined });

    // Act
    const submission = await runner.submit({ host: HOST, step: 'backup-validate', input: { behaviour: 'big-output', size: 30_000 }, timeoutSeconds: 60 });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_COMMAND_FAILED' } });
    expect(result.ok ? '' : result.error.message).toContain(`truncated by SSM (${SSM_STDOUT_LIMIT} characters kept)`);
  });

  it('answers "not done" when GetCommandInvocation is throttled, then finishes', async () => {
    // Prepare
    const runner = makeRunner();
    const submission = await runner.submit({ host: HOST, step: 'backup-cleanup', input: {}, timeoutSeconds: 60 });
    await standin.waitForEnd((submission as PendingSubmission).commandId, HOST);
    standin.injectError('GetCommandInvocation', { type: 'ThrottlingException', message: 'Rate exceeded' });

    // Act
    const throttled = await runner.poll(submission);
    const after = await runner.poll(submission);

    // Assess
    expect(throttled).toEqual({ done: false });
    expect(after).toEqual({ done: true, result: { ok: true, output: { step: 'backup-cleanup', echo: {} } } });
    expect(standin.calls.filter((c) => c.operation === 'GetCommandInvocation').map((c) => c.error)).toEqual(['ThrottlingException', undefined]);
  });

  it('answers "not done" while the new invocation is not visible yet (InvocationDoesNotExist)', async () => {
    // Prepare
    await standin.stop();
    standin = await startStandin({ invocationVisibleAfterMs: 400 });
    client.destroy();
    client = new SSMClient({ ...standin.clientConfig, maxAttempts: 1 });
    const runner = makeRunner();

    // Act
    const submission = await runner.submit({ host: HOST, step: 'restore-prepare', input: {}, timeoutSeconds: 60 });
    const first = await runner.poll(submission);
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(first).toEqual({ done: false });
    expect(standin.calls.find((c) => c.operation === 'GetCommandInvocation')?.error).toBe('InvocationDoesNotExist');
    expect(result).toEqual({ ok: true, output: { step: 'restore-prepare', echo: {} } });
  });

  it('throws TransientError SSM_THROTTLED when SendCommand is throttled', async () => {
    // Prepare
    const runner = makeRunner();
    standin.injectError('SendCommand', { type: 'ThrottlingException', message: 'Rate exceeded' });

    // Act
    const submitting = runner.submit({ host: HOST, step: 'backup-snapshot', input: {}, timeoutSeconds: 60 });

    // Assess
    await expect(submitting).rejects.toMatchObject({ name: 'TransientError', code: 'SSM_THROTTLED' });
  });

  it('cancels a running command: its process group is killed and poll reports HOST_COMMAND_CANCELLED', async () => {
    // Prepare
    const runner = makeRunner();
    const pidFile = path.join(storeRoot, 'cancel.pid');
    const submission = await runner.submit({ host: HOST, step: 'restore-apply', input: { behaviour: 'sleep', seconds: 60, pidFile }, timeoutSeconds: 600 });
    const until = Date.now() + 10_000;
    let pid = 0;
    while (!pid && Date.now() < until) {
      pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      if (!pid) await new Promise((resolve) => setTimeout(resolve, 25));
    }

    // Act
    await runner.cancel(submission);
    const polled = await runner.poll(submission);

    // Assess
    expect(pid).toBeGreaterThan(0);
    expect(polled).toMatchObject({ done: true, result: { ok: false, error: { name: 'PermanentError', code: 'HOST_COMMAND_CANCELLED' } } });
    expect(await waitForExit(pid)).toBe(true);
  });

  it('refuses an input too large for SSM\'s parameters before calling SSM (HOST_INPUT_TOO_LARGE)', async () => {
    // Prepare
    const runner = makeRunner();
    const input = { blob: 'y'.repeat(40_000) };

    // Act
    const submitting = runner.submit({ host: HOST, step: 'backup-upload', input, timeoutSeconds: 60 });

    // Assess
    await expect(submitting).rejects.toMatchObject({ name: 'PermanentError', code: 'HOST_INPUT_TOO_LARGE' });
    expect(standin.calls).toHaveLength(0);
  });

  it('a document name SSM does not know is a PermanentError, nothing runs', async () => {
    // Prepare
    const runner = makeRunner({ documentName: 'AWS-RunShellScript-typo' });

    // Act
    const submitting = runner.submit({ host: HOST, step: 'backup-snapshot', input: {}, timeoutSeconds: 60 });

    // Assess
    await expect(submitting).rejects.toMatchObject({ name: 'PermanentError', code: 'SSM_INVALID_REQUEST' });
    expect(standin.calls.map((c) => c.error)).toEqual(['InvalidDocument']);
  });

  it('a runner without a document name is refused at once (INVALID_CONFIG)', () => {
    // Act
    const building = () => new SsmHostRunner({ client, documentName: ' ' });

    // Assess
    expect(building).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'INVALID_CONFIG' }));
  });
});
