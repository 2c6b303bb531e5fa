/**
 * `dbbackup agent` always ends with its one result line carrying the real error, even when the
 * result cannot be written to the store (before: nothing on stdout, and the runner reported a
 * bare HOST_COMMAND_FAILED with the cause lost).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cliIn } from '../../harness/cli';
import { agentResultFromStdout } from '../../../core/host-runner/agent-result';

const RESULT_KEY = 'state/agent-results/0f8b1a52-3c4d-4e5f-8a9b-0c1d2e3f4a5b.json';

describe('dbbackup agent', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-agent-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('prints the step\'s own error when the result cannot be written to the store', async () => {
    // Prepare: a store directory that is a plain file, so writing the result fails
    const blocked = path.join(work, 'not-a-directory');
    await writeFile(blocked, 'x');
    const dbbackup = cliIn(work);

    // Act
    const run = await dbbackup(['--store', blocked, 'agent', 'backup-snapshot', '--input', '{"backupId":"b-1"}', '--result-key', RESULT_KEY]);

    // Assess
    expect(agentResultFromStdout(run.stdout)).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'INVALID_INPUT' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`could not write the result to ${RESULT_KEY}`);
  });

  it('prints the error that stopped it before the step ran (a store it cannot open)', async () => {
    // Prepare
    const dbbackup = cliIn(work);

    // Act
    const run = await dbbackup(['--store', 's3://No_Such_Bucket', 'agent', 'backup-cleanup', '--input', '{}', '--result-key', RESULT_KEY]);

    // Assess
    expect(agentResultFromStdout(run.stdout)).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'INVALID_STORE_URL' } });
    expect(run.code).toBe(2);
  });

  it('refuses an input that is not base64 with its result line (INVALID_INPUT)', async () => {
    // Prepare
    const dbbackup = cliIn(work);

    // Act
    const run = await dbbackup(['agent', 'backup-cleanup', '--input-base64', 'e30=;reboot']);

    // Assess
    expect(agentResultFromStdout(run.stdout)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: '--input-base64 is not base64' } });
  });
});
