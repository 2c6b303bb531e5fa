/**
 * The REAL host agent (`bin/dbbackup.js agent`) behind both process-based runners: an unknown
 * step must come back as the agent's own PermanentError, and through SSM the agent must also
 * write its result to the store at the result key.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentStep } from '../../../core/agent/agent-steps';
import type { PendingSubmission } from '../../../core/host-runner/host-runner';
import { LocalProcessHostRunner } from '../../../core/host-runner/local-process-runner';
import { SsmHostRunner, shellQuote } from '../../../core/host-runner/ssm-runner';
import { readJson } from '../../../core/store/json';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { REAL_AGENT, pollUntilDone } from '../../fixtures/host-runner/helpers';
import { startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';

const HOST = 'i-0standin000000001';
const UNKNOWN_STEP = 'no-such-step' as AgentStep;

describe('host runners with the real dbbackup agent', () => {
  let root: string;
  let store: LocalDirectoryStore;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'real-agent-'));
    store = new LocalDirectoryStore(path.join(root, 'store'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('local process runner: an unknown step is the agent\'s PermanentError INVALID_INPUT', async () => {
    // Prepare
    const runner = new LocalProcessHostRunner({ directory: path.join(root, 'runner'), storeUrl: store.url });

    // Act
    const submission = await runner.submit({ step: UNKNOWN_STEP, input: {}, timeoutSeconds: 120 });
    const { result } = await pollUntilDone(runner, submission, 60_000, 100);

    // Assess
    expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'INVALID_INPUT' } });
    expect(result.ok ? '' : result.error.message).toContain("unknown agent step 'no-such-step'");
  });

  describe('through SSM', () => {
    let standin: SsmStandin;
    let client: SSMClient;

    beforeEach(async () => {
      standin = await startSsmStandin({ instanceIds: [HOST] });
      client = new SSMClient({ ...standin.clientConfig, maxAttempts: 1 });
    });

    afterEach(async () => {
      client.destroy();
      await standin.stop();
    });

    it('an unknown step is the agent\'s PermanentError, also written to the store at the result key', async () => {
      // Prepare
      const runner = new SsmHostRunner({
        client,
        agentCommand: `${shellQuote(process.execPath)} ${shellQuote(REAL_AGENT)}`,
        storeUrl: store.url,
        resultStore: store,
      });

      // Act
      const submission = await runner.submit({ host: HOST, step: UNKNOWN_STEP, input: { backupId: 'b-1' }, timeoutSeconds: 120 });
      const { result } = await pollUntilDone(runner, submission, 60_000, 100);

      // Assess
      expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'INVALID_INPUT' } });
      expect(await readJson(store, (submission as PendingSubmission).resultKey ?? '')).toEqual(result);
      expect(standin.invocation((submission as PendingSubmission).commandId, HOST)).toMatchObject({ status: 'Failed', responseCode: 2 });
    });
  });
});
