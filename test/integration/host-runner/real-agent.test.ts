/**
 * The REAL host agent (`bin/dbbackup.js agent`) behind both process-based runners: an unknown
 * step must come back as the agent's own PermanentError (local) or be refused by SSM against the
 * agent-step document before anything runs; through SSM the agent's own errors come back and are
 * also written to the store at the result key.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentStep } from '../../../core/agent/agent-steps';
import type { PendingSubmission } from '../../../core/host-runner/host-runner';
import { LocalProcessHostRunner } from '../../../core/host-runner/local-process-runner';
import { agentStepDocument, shellQuote } from '../../../core/host-runner/agent-document';
import { SsmHostRunner } from '../../../core/host-runner/ssm-runner';
import { readJson } from '../../../core/store/json';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { REAL_AGENT, pollUntilDone } from '../../fixtures/host-runner/helpers';
import { startSsmStandin, type SsmStandin } from '../../harness/ssm-standin';

const HOST = 'i-0standin000000001';
const DOCUMENT = 'DbBackup-AgentStep';
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

    let runner: SsmHostRunner;

    beforeEach(async () => {
      const document = agentStepDocument({ storeUrl: store.url, region: 'us-east-1', agentCommand: `${shellQuote(process.execPath)} ${shellQuote(REAL_AGENT)}` });
      standin = await startSsmStandin({ instanceIds: [HOST], documents: { [DOCUMENT]: document } });
      client = new SSMClient({ ...standin.clientConfig, maxAttempts: 1 });
      runner = new SsmHostRunner({ client, documentName: DOCUMENT, resultStore: store });
    });

    afterEach(async () => {
      client.destroy();
      await standin.stop();
    });

    it('an unknown step is refused by SSM against the document: nothing runs on the host', async () => {
      // Act
      const submitting = runner.submit({ host: HOST, step: UNKNOWN_STEP, input: { backupId: 'b-1' }, timeoutSeconds: 120 });

      // Assess
      await expect(submitting).rejects.toMatchObject({ name: 'PermanentError', code: 'SSM_INVALID_REQUEST' });
      expect(standin.calls.map((c) => [c.operation, c.error])).toEqual([['SendCommand', 'InvalidParameters']]);
    });

    it('the agent\'s own error comes back, and is also written to the store at the result key', async () => {
      // Act
      const submission = await runner.submit({ host: HOST, step: 'backup-snapshot', input: { backupId: 'b-1' }, timeoutSeconds: 120 });
      const { result } = await pollUntilDone(runner, submission, 60_000, 100);

      // Assess
      expect(result).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'INVALID_INPUT' } });
      expect(await readJson(store, (submission as PendingSubmission).resultKey ?? '')).toEqual(result);
      expect(standin.invocation((submission as PendingSubmission).commandId, HOST)).toMatchObject({ status: 'Failed', responseCode: 2 });
    });
  });
});
