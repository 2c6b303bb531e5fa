/**
 * The local child-process host runner with the fake agent (same contract as `dbbackup agent`):
 * real detached processes, state in files, polled from fresh runner instances the way another
 * process (the next Lambda invocation, the next CLI call) would.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HostSubmission, PendingSubmission } from '../../../core/host-runner/host-runner';
import { LocalProcessHostRunner, type LocalProcessRunnerOptions } from '../../../core/host-runner/local-process-runner';
import { FAKE_AGENT, pollUntilDone, processAlive, waitForExit } from '../../fixtures/host-runner/helpers';
import { tempDir } from '../../harness/test-run';

describe('LocalProcessHostRunner', () => {
  let directory: string;
  let started: HostSubmission[];

  beforeEach(async () => {
    directory = await tempDir('local-runner');
    started = [];
  });

  afterEach(async () => {
    const runner = makeRunner();
    for (const submission of started) await runner.cancel(submission);
    await rm(directory, { recursive: true, force: true });
  });

  function makeRunner(overrides: LocalProcessRunnerOptions = {}): LocalProcessHostRunner {
    return new LocalProcessHostRunner({ directory, agentCommand: [process.execPath, FAKE_AGENT], killGraceMs: 500, ...overrides });
  }

  async function submit(runner: LocalProcessHostRunner, input: unknown, timeoutSeconds = 60): Promise<PendingSubmission> {
    const submission = await runner.submit({ host: 'db-1', step: 'backup-snapshot', input, timeoutSeconds });
    started.push(submission);
    if (submission.done) throw new Error('the local runner finished during submit');
    return submission;
  }

  async function pidOf(file: string): Promise<number> {
    const until = Date.now() + 10_000;
    for (;;) {
      const pid = Number(await readFile(file, 'utf8').catch(() => '0'));
      if (pid > 0) return pid;
      if (Date.now() > until) throw new Error(`no pid in ${file}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('runs the agent in a child process and returns its result; the submission is plain JSON', async () => {
    // Prepare
    const runner = makeRunner();
    const input = { backupId: 'b-7', note: "quotes ' \" and $vars" };

    // Act
    const submission = await submit(runner, input);
    const { result } = await pollUntilDone(runner, JSON.parse(JSON.stringify(submission)) as HostSubmission);

    // Assess
    expect(submission).toMatchObject({ done: false, host: 'db-1', step: 'backup-snapshot' });
    expect(submission.commandId).toMatch(/^local-[0-9a-f-]{36}$/);
    expect(result).toEqual({ ok: true, output: { step: 'backup-snapshot', echo: input } });
    expect((await readdir(path.join(directory, submission.commandId))).sort()).toEqual(
      ['command.json', 'exit', 'input.json', 'pid', 'stderr', 'stdout'],
    );
  });

  it('passes --store to the agent before the subcommand', async () => {
    // Prepare
    const storeDir = path.join(directory, 'store');
    const runner = makeRunner({ storeUrl: storeDir });

    // Act
    const submission = await submit(runner, {});
    await pollUntilDone(runner, submission);

    // Assess
    const command = JSON.parse(await readFile(path.join(directory, submission.commandId, 'command.json'), 'utf8')) as { argv: string[] };
    expect(command.argv).toEqual([process.execPath, FAKE_AGENT, '--store', storeDir, 'agent', 'backup-snapshot', '--input', '-']);
  });

  it('returns the agent error with its name preserved', async () => {
    // Prepare
    const runner = makeRunner();

    // Act
    const submission = await submit(runner, { behaviour: 'fail-transient' });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(result).toEqual({ ok: false, error: { name: 'TransientError', code: 'ETCD_UNAVAILABLE', message: 'etcd at 127.0.0.1:2379 refused the connection' } });
  });

  it('reports a crash without a result as HOST_COMMAND_FAILED with the exit code and stderr tail', async () => {
    // Prepare
    const runner = makeRunner();

    // Act
    const submission = await submit(runner, { behaviour: 'crash', stderr: 'Segmentation fault in mbstream\n' });
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_COMMAND_FAILED' } });
    expect(result.ok ? '' : result.error.message).toMatch(/exited with code 7 .*stderr: Segmentation fault in mbstream/);
  });

  it('kills the process group of a step past its deadline and reports HOST_STEP_TIMEOUT', async () => {
    // Prepare
    const runner = makeRunner();
    const pidFile = path.join(directory, 'sleeper.pid');
    const submission = await submit(runner, { behaviour: 'sleep', seconds: 60, pidFile }, 1);
    const agentPid = await pidOf(pidFile);

    // Act
    const { result } = await pollUntilDone(runner, submission, 15_000, 100);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_STEP_TIMEOUT' } });
    expect(await waitForExit(agentPid)).toBe(true);
    expect(await runner.poll(submission)).toEqual({ done: true, result });
  });

  it('is polled and cancelled by a fresh runner instance, as from another process', async () => {
    // Prepare
    const pidFile = path.join(directory, 'other.pid');
    const submission = await submit(makeRunner(), { behaviour: 'sleep', seconds: 60, pidFile }, 600);
    const agentPid = await pidOf(pidFile);
    const wire = JSON.stringify(submission);

    // Act
    const whileRunning = await makeRunner().poll(JSON.parse(wire) as HostSubmission);
    await makeRunner().cancel(JSON.parse(wire) as HostSubmission);
    const afterCancel = await makeRunner().poll(JSON.parse(wire) as HostSubmission);

    // Assess
    expect(whileRunning).toEqual({ done: false });
    expect(afterCancel).toMatchObject({ done: true, result: { ok: false, error: { name: 'PermanentError', code: 'HOST_COMMAND_CANCELLED' } } });
    expect(processAlive(agentPid)).toBe(false);
  });

  it('reads a finished command from a fresh runner instance', async () => {
    // Prepare
    const first = makeRunner();
    const submission = await submit(first, { behaviour: 'fail-permanent' });
    await pollUntilDone(first, submission);

    // Act
    const polled = await makeRunner().poll(JSON.parse(JSON.stringify(submission)) as HostSubmission);

    // Assess
    expect(polled).toEqual({ done: true, result: { ok: false, error: { name: 'PermanentError', code: 'CHECKSUM_MISMATCH', message: 'snapshot sha256 trailer does not match' } } });
  });

  it('reports an unknown command id as HOST_COMMAND_NOT_FOUND and refuses ids that are not its own', async () => {
    // Prepare
    const runner = makeRunner();
    const now = new Date().toISOString();
    const unknown: HostSubmission = { done: false, commandId: 'local-00000000-0000-0000-0000-000000000000', submittedAt: now, deadline: now };
    const escaping: HostSubmission = { done: false, commandId: '../../etc', submittedAt: now, deadline: now };

    // Act
    const polled = await runner.poll(unknown);
    const refused = runner.poll(escaping);

    // Assess
    expect(polled).toMatchObject({ done: true, result: { ok: false, error: { code: 'HOST_COMMAND_NOT_FOUND' } } });
    await expect(refused).rejects.toMatchObject({ name: 'PermanentError', code: 'INVALID_INPUT' });
  });

  it('reports an agent that cannot be started as HOST_COMMAND_FAILED', async () => {
    // Prepare
    const runner = makeRunner({ agentCommand: [path.join(directory, 'no-such-agent')] });

    // Act
    const submission = await submit(runner, {});
    const { result } = await pollUntilDone(runner, submission);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'HOST_COMMAND_FAILED' } });
    expect(result.ok ? '' : result.error.message).toMatch(/exited with code 127 .*no-such-agent/);
  });

  it('purges finished command directories older than asked and keeps running ones', async () => {
    // Prepare
    const runner = makeRunner();
    const finished = await submit(runner, {});
    await pollUntilDone(runner, finished);
    const running = await submit(runner, { behaviour: 'sleep', seconds: 60 }, 600);
    const later = makeRunner({ now: () => new Date(Date.now() + 3_600_000) });

    // Act
    const removed = await later.purge(60_000);

    // Assess
    expect(removed).toBe(1);
    expect(await readdir(directory)).toEqual([running.commandId]);
  });
});
