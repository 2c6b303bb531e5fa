/**
 * The restore state machine's input comes from whoever may start an execution in the console, so
 * it is checked at the door, through the synthesized definition with the real handlers: secrets
 * only by reference and only in fields that hold secrets, whose resolved values never come back in
 * the execution's output or its error.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { memberPidFile } from '../../../drivers/etcd/member';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, trackMember, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

const LEAKABLE = 'value-of-a-file-the-operator-must-not-see';
let etcd: TestEtcd;
let rt: TestRuntime;

beforeAll(async () => {
  etcd = await startTestEtcd('untrusted');
  await writeKeys(etcd.client, 20);
  rt = await createTestRuntime({ env: { MEMBER_NAME: LEAKABLE } });
  await rt.backup({ engine: 'etcd', instance: 'untrusted', config: { endpoints: [etcd.clientUrl] } });
});
afterAll(async () => {
  await stopAllEtcd();
  await rt?.dispose();
});

/** A console restore input for a fresh data dir (whose member, should it ever start, is stopped at the end). */
async function restoreInput(target: Record<string, unknown>): Promise<Record<string, unknown>> {
  const dataDir = path.join(await tempDir('untrusted-target'), 'data');
  trackMember(memberPidFile(dataDir));
  return { backupId: 'latest', engine: 'etcd', instance: 'untrusted', target: { dataDir, ...(await freeMemberUrls()), ...target } };
}

async function failure(input: unknown): Promise<ExecutionFailedError> {
  const error = await rt.execute('restore', input).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExecutionFailedError);
  return error as ExecutionFailedError;
}

describe('restore console input', () => {
  it('refuses a $secret reference in a field that holds no secret, naming it, before any host step; its value never shows', async () => {
    // Act: the member name would come back in the output (and the next steps' input) once resolved.
    const error = await failure(await restoreInput({ name: { $secret: 'env:MEMBER_NAME' } }));

    // Assess
    expect(error.errorName).toBe('PermanentError');
    expect(error.causeText).toMatch(/^INVALID_INPUT: invalid restore request: target\.name: a \{ "\$secret": \.\.\. \} reference is accepted only in a field that holds a secret/);
    expect(error.execution.path).not.toContain('Prepare');
    expect(JSON.stringify({ cause: error.causeText, execution: error.execution })).not.toContain(LEAKABLE);
  });

  it('refuses a restore without a target, and a drill that would force its way over one, before any host step', async () => {
    // Act
    const { target: _target, ...noTarget } = await restoreInput({});
    const missing = await failure(noTarget);
    const forced = await failure({ ...(await restoreInput({})), force: true, drill: {} });
    const inline = await failure({ ...noTarget, drill: { targetSettings: { password: 'hunter2' } } });

    // Assess
    expect(missing.causeText).toMatch(/^INVALID_INPUT: invalid restore request: target: is required \(only a drill starts a target of its own\)/);
    expect(forced.causeText).toMatch(/^INVALID_INPUT: invalid restore request: force: a drill restores into an empty target, never over one/);
    expect(inline.causeText).toMatch(/^INVALID_INPUT: invalid restore request: drill\.targetSettings\.password: must be a \{ "\$secret"/);
    expect(inline.causeText).not.toContain('hunter2');
    for (const error of [missing, forced, inline]) expect(error.execution.path).toEqual(['Fetch manifest', 'Cleanup after failure', 'Drill failed?', ...(error === missing ? [] : ['Record failed drill']), 'Restore failed']);
    // A refused request says nothing about the backup: it is not marked restore failed.
    expect((await rt.catalog.get('latest', { engine: 'etcd', instance: 'untrusted' })).drill).toBeUndefined();
  });

  it('refuses an inline password in the target, naming the field, before any host step', async () => {
    // Act
    const error = await failure(await restoreInput({ username: 'root', password: 'hunter2' }));

    // Assess
    expect(error.causeText).toMatch(/^INVALID_INPUT: invalid restore request: target\.password: must be a \{ "\$secret": "<scheme>:<ref>" \} reference/);
    expect(error.causeText).not.toContain('hunter2');
    expect(error.execution.path).not.toContain('Prepare');
  });

  it('refuses an env: or file: reference in AWS at the first step, naming the field, without reading it', async () => {
    // Prepare: the functions as the stack deploys them (DBBACKUP_PLATFORM=aws), reading this store
    const aws = await createTestRuntime({ storeUrl: rt.storeDir, env: { ROOT_PW: LEAKABLE }, platform: 'aws' });

    try {
      // Act
      const error = await aws.execute('restore', await restoreInput({ username: 'root', password: { $secret: 'env:ROOT_PW' } })).then(() => undefined, (e: unknown) => e) as ExecutionFailedError;

      // Assess
      expect(error.causeText).toMatch(/^SECRET_REF_REFUSED: password: secret reference 'env:ROOT_PW' is refused: here only ssm: and secretsmanager: references are resolved/);
      expect(error.execution.path).not.toContain('Prepare');
      expect(error.causeText).not.toContain(LEAKABLE);
    } finally {
      await aws.dispose();
    }
  });

  it('refuses a request too big for the SSM commands its host steps are sent in, before any host step, the target untouched', async () => {
    // Act: a 60 KB cluster token (an SSM command carries about 48 KB of parameters)
    const input = await restoreInput({ clusterToken: 'x'.repeat(60_000) });
    const error = await failure(input);

    // Assess
    expect(error.causeText).toMatch(/^INVALID_INPUT: the restore request is \d+ bytes of JSON, more than the 24576 a request may be \(each host step carries it in an SSM command, which holds about 48 KB\)/);
    expect(error.execution.path).not.toContain('Prepare');
    await expect(access((input.target as { dataDir: string }).dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a host that is not an SSM managed instance id, naming the field, before any host step, the target untouched', async () => {
    // The last two have the form of an id but not one SSM accepts: i- and 12 digits, mi- and 8.
    for (const host of ['10.0.1.12', '../../results/x', 'db-1.internal', 'i-0123456789ab', 'mi-01234567']) {
      // Act
      const input = { ...(await restoreInput({})), host } as Record<string, unknown>;
      const error = await failure(input);

      // Assess
      expect(error.causeText).toMatch(new RegExp(`^INVALID_INPUT: invalid restore request: host: '${host.replace(/\./g, '\\.')}' is not an EC2 or SSM managed instance id \\(i- and 8 or 17 hex digits, or mi- and 17\\)`));
      expect(error.execution.path).not.toContain('Prepare');
      await expect(access((input.target as { dataDir: string }).dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    // The backup side refuses it the same way, before taking anything.
    const backupsBefore = (await rt.catalog.list({ includeIncomplete: true })).length;
    const backup = await rt.execute('backup', { engine: 'etcd', instance: 'untrusted', config: { endpoints: [etcd.clientUrl] }, host: '10.0.1.12' }).then(() => undefined, (e: unknown) => e);
    expect(backup).toBeInstanceOf(ExecutionFailedError);
    expect((backup as ExecutionFailedError).causeText).toMatch(/^INVALID_INPUT: .*host: '10\.0\.1\.12' is not an EC2 or SSM managed instance id/);
    expect((backup as ExecutionFailedError).execution.path).not.toContain('Snapshot');
    expect((await rt.catalog.list({ includeIncomplete: true })).length).toBe(backupsBefore);
  });

  it('refuses a request that describes a scratch target itself (a drill\'s own, which a host does not hold to its restore roots), before any host step', async () => {
    // Act: the target is the operator's, passed off as one a drill started
    const input = await restoreInput({});
    const error = await failure({ ...input, drill: { scratch: 'etcd started for the drill' } });

    // Assess
    expect(error.causeText).toMatch(/^INVALID_INPUT: invalid restore request: drill\.scratch: is set by the drill once it started its scratch target, never by the request/);
    expect(error.execution.path).not.toContain('Prepare');
    await expect(access((input.target as { dataDir: string }).dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads no secret before the host steps: fetch-manifest checks the target with its references unread, the host resolves them', async () => {
    // Act: a reference nothing can resolve (the variable is not set)
    const input = await restoreInput({ username: 'root', password: { $secret: 'env:UNSET_RESTORE_PASSWORD' } });
    const error = await failure(input);

    // Assess: past Fetch manifest; the first host step is where it is resolved, and fails
    expect(error.causeText).toMatch(/^SECRET_UNRESOLVED: secret 'env:UNSET_RESTORE_PASSWORD' could not be resolved: environment variable UNSET_RESTORE_PASSWORD is not set/);
    expect(error.execution.path).toContain('Fetch manifest');
    expect(error.execution.path.some((state) => /Prepare/.test(state))).toBe(true);
    await expect(access((input.target as { dataDir: string }).dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('accepts an etcd cluster token given inline: it names the restored cluster, it is no secret', async () => {
    // Act
    const execution = await rt.execute('restore', await restoreInput({ clusterToken: 'drill-cluster' }));

    // Assess
    const report = (execution.output as { report: { endpoint: { clusterToken: string }; validation: { ok: boolean } } }).report;
    expect(report.validation.ok).toBe(true);
    expect(report.endpoint.clusterToken).toBe('drill-cluster');
  });
});
