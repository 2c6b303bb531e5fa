/**
 * The restore state machine's failure path, run in process against a real etcd: whatever step
 * fails, the cleanup on the target host stops the member the restore started, removes the download
 * spool and records the failure, and the execution fails with the original error followed by what
 * the target holds — untouched (its old data kept), partial (its old data gone: said so), or
 * restored (the failure came after). The failure is counted.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentResult } from '../../../core/agent/agent-steps';
import { readJson } from '../../../core/store/json';
import { memberPid, memberPidFile } from '../../../drivers/etcd/member';
import { METRIC } from '../../../functions/shared/metric-names';
import { publish } from '../../../functions/shared/observability';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, tempDir, trackMember, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { scriptedHostRunner } from '../../harness/scripted-host-runner';

jest.mock('../../../functions/shared/observability', () => ({
  ...jest.requireActual('../../../functions/shared/observability'),
  publish: jest.fn(),
}));

let etcd: TestEtcd;
let rt: TestRuntime;

beforeAll(async () => {
  etcd = await startTestEtcd('restore-cleanup');
  await writeKeys(etcd.client, 200);
  rt = await createTestRuntime();
  await rt.backup({ engine: 'etcd', instance: 'main', config: { endpoints: [etcd.clientUrl] } });
});
afterAll(async () => {
  await stopAllEtcd();
  await rt.dispose();
});
beforeEach(() => jest.mocked(publish).mockClear());

interface FailedRestoreOptions {
  /** Host steps scripted (the others run for real). */
  scripts?: Parameters<typeof scriptedHostRunner>[1];
  instance?: string;
  force?: boolean;
}

/** Restores `target` (the latest backup of etcd/main unless said otherwise); returns the failure. */
async function failedRestore(target: Record<string, unknown>, options: FailedRestoreOptions = {}): Promise<ExecutionFailedError> {
  const workflows = localWorkflows(rt, { definitions: shippedDefinitions(), waitMs: 10, hostRunner: scriptedHostRunner(rt.deps, options.scripts ?? {}) });
  const run = workflows.execute('restore', { backupId: 'latest', engine: 'etcd', instance: options.instance ?? 'main', target, force: options.force ?? false });
  return run.then(() => { throw new Error('the restore succeeded'); }, (error: unknown) => error as ExecutionFailedError);
}

/** A target data dir holding the operator's files, as a forced restore finds it. */
async function occupiedDataDir(label: string): Promise<string> {
  const dataDir = path.join(await tempDir(label), 'data');
  await mkdir(path.join(dataDir, 'member'), { recursive: true });
  await writeFile(path.join(dataDir, 'member', 'precious.txt'), 'the old data\n');
  trackMember(memberPidFile(dataDir));
  return dataDir;
}

/** The failure record the cleanup wrote for the one failed restore of `instance`. */
async function failureRecord(instance: string): Promise<Record<string, unknown>> {
  const keys: string[] = [];
  for await (const object of rt.store.list(`state/restores/etcd/${instance}/`)) keys.push(object.key);
  const failures = keys.filter((key) => key.endsWith('/failure.json'));
  expect(failures).toHaveLength(1);
  expect(keys.filter((key) => /\/(prepared|result|validation)\.json$/.test(key))).toEqual([]); // the steps' records are gone
  return (await readJson<Record<string, unknown>>(rt.store, failures[0]))!;
}

const spoolRestores = async (): Promise<string[]> => (existsSync(path.join(rt.spoolRoot, 'restore')) ? readdir(path.join(rt.spoolRoot, 'restore')) : []);
const scriptedFailure = (message: string): AgentResult => ({ ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message } });

it('stops the member the restore started when a later step fails, and says the target holds the restored backup', async () => {
  // Prepare
  const dataDir = path.join(await tempDir('restored'), 'data');
  trackMember(memberPidFile(dataDir));

  // Act: the restore starts its member, then validation fails.
  const error = await failedRestore({ dataDir, ...(await freeMemberUrls()) }, { scripts: { 'restore-validate': { result: () => scriptedFailure('validation refused') } } });

  // Assess
  expect(error.errorName).toBe('PermanentError');
  expect(error.causeText).toMatch(new RegExp(
    `^SCRIPTED: validation refused — target restored: ${dataDir} holds backup \\S+ as restored; the failure came after the restore; stopped what the restore started: etcd member restored \\(pid \\d+, http://127\\.0\\.0\\.1:\\d+\\)$`,
  ));
  expect(error.execution.path).toEqual(expect.arrayContaining(['Validate', 'Cleanup after failure', 'Restore failed']));
  expect(await memberPid(memberPidFile(dataDir))).toBeUndefined();
  expect(await spoolRestores()).toEqual([]);
  expect(await failureRecord('main')).toMatchObject({
    error: { name: 'PermanentError' }, target: 'restored', stopped: [expect.stringMatching(/^etcd member restored \(pid \d+, /)], spool: { removed: true },
  });
  expect(publish).toHaveBeenCalledWith('etcd', 'main', [[METRIC.restoreFailed, 'Count', 1]]);
});

it('says so when a forced restore failed after replacing the data dir: partial, its previous contents deleted', async () => {
  // Prepare: a forced restore into an occupied data dir, whose member cannot start (its client port is taken).
  const dataDir = await occupiedDataDir('partial');
  const { peerUrl } = await freeMemberUrls();

  // Act
  const error = await failedRestore({ dataDir, clientUrl: etcd.clientUrl, peerUrl }, { force: true });

  // Assess
  expect(error.causeText).toMatch(new RegExp(`— target partial: ${dataDir} holds an unfinished restore of backup \\S+; its previous contents were deleted: restore it again \\(with force\\) or remove it$`));
  expect(existsSync(path.join(dataDir, 'member', 'precious.txt'))).toBe(false);
  expect(await memberPid(memberPidFile(dataDir))).toBeUndefined();
  expect(await spoolRestores()).toEqual([]);
}, 120_000);

it('says the target is untouched, its old data kept, when the download fails a forced restore', async () => {
  // Prepare: a backup of its own whose stored snapshot is damaged (same size, other bytes).
  const summary = await rt.backup({ engine: 'etcd', instance: 'damaged', config: { endpoints: [etcd.clientUrl] } });
  const entry = await rt.catalog.get(summary.backupId);
  const snapshot = path.join(rt.storeDir, entry.manifest!.artifacts[0].key);
  const bytes = await readFile(snapshot);
  bytes[100] ^= 0xff;
  await writeFile(snapshot, bytes);
  const dataDir = await occupiedDataDir('untouched');

  // Act
  const error = await failedRestore({ dataDir, ...(await freeMemberUrls()) }, { force: true, instance: 'damaged' });

  // Assess
  expect(error.causeText).toMatch(new RegExp(`^CHECKSUM_MISMATCH: .* — target untouched: ${dataDir} was not written to and keeps its previous contents — backup ${summary.backupId} is damaged \\(snapshot\\.db\\): recorded CORRUPT, so \`restore latest\` passes over it to the newest intact backup \\(\`dbbackup verify ${summary.backupId}\` checks every artifact again\\)$`));
  // Recorded as verify would have: the backup is CORRUPT, so no restore takes it again unasked.
  const recorded = await rt.catalog.find(summary.backupId);
  expect(recorded.verification).toMatchObject({ ok: false, artifacts: [{ name: 'snapshot.db', ok: false, damaged: true, detail: expect.stringMatching(/^restore \S+ found its bytes changed: /) }] });
  await expect(rt.catalog.get('latest', { engine: 'etcd', instance: 'damaged' })).rejects.toMatchObject({ code: 'BACKUP_NOT_FOUND', message: expect.stringContaining('failed re-verification (CORRUPT)') });
  expect(await readFile(path.join(dataDir, 'member', 'precious.txt'), 'utf8')).toBe('the old data\n');
  expect(await spoolRestores()).toEqual([]);
  expect(await failureRecord('damaged')).toMatchObject({ target: 'untouched', stopped: [] });
});

it('fails with the error alone when the restore never began (fetching the manifest), and counts it', async () => {
  // Act
  const error = await failedRestore({ dataDir: '/nonexistent/data' }, { instance: 'never-backed-up' });

  // Assess
  expect(error.causeText).toMatch(/^BACKUP_NOT_FOUND: /);
  expect(error.causeText).not.toMatch(/— target/);
  expect(error.execution.path).toEqual(['Fetch manifest', 'Cleanup after failure', 'Drill failed?', 'Restore failed']);
  expect(publish).toHaveBeenCalledWith('etcd', 'never-backed-up', [[METRIC.restoreFailed, 'Count', 1]]);
});

describe('a drill', () => {
  const drillDirs = async (): Promise<string[]> => readdir(path.join(rt.spoolRoot, 'drill')).catch(() => []);

  it('that fails is recorded "restore failed" with the original error, counted, and its scratch member torn down; the execution fails with that error', async () => {
    // Prepare
    const backupId = (await rt.catalog.get('latest', { engine: 'etcd', instance: 'main' })).backupId;
    const workflows = localWorkflows(rt, {
      definitions: shippedDefinitions(), waitMs: 10,
      hostRunner: scriptedHostRunner(rt.deps, { 'restore-validate': { result: () => scriptedFailure('validation refused') } }),
    });

    // Act: the scratch member is started and restored, then validation fails.
    const error = await workflows.execute('restore', { backupId: 'latest', engine: 'etcd', instance: 'main', drill: {} })
      .then(() => { throw new Error('the drill succeeded'); }, (e: unknown) => e as ExecutionFailedError);

    // Assess
    expect(error.causeText).toMatch(/^SCRIPTED: validation refused/);
    expect(error.execution.path).toEqual(expect.arrayContaining(['Drill start', 'Validate', 'Cleanup after failure', 'Record failed drill', 'Restore failed']));
    expect((await rt.catalog.get(backupId)).drill).toMatchObject({ backupId, ok: false, reason: 'SCRIPTED: validation refused', target: 'a scratch etcd member on this host' });
    expect(publish).toHaveBeenCalledWith('etcd', 'main', [[METRIC.drillFailed, 'Count', 1]]);
    expect(await drillDirs()).toEqual([]);
  });

  it('that succeeds publishes its restore time and throughput and resets the age of the newest good drill', async () => {
    // Act
    const record = await rt.drill({ backupId: (await rt.catalog.get('latest', { engine: 'etcd', instance: 'main' })).backupId, engine: 'etcd', instance: 'main' });

    // Assess
    expect(record.ok).toBe(true);
    expect(publish).toHaveBeenCalledWith('etcd', 'main', [
      [METRIC.drillSucceeded, 'Count', 1],
      [METRIC.restoreDurationSeconds, 'Seconds', record.restoreDurationMs / 1000],
      [METRIC.restoreBytesPerSecond, 'Bytes/Second', record.bytesPerSecond],
      [METRIC.lastGoodDrillAgeHours, 'Count', 0],
    ]);
    expect(await drillDirs()).toEqual([]);
  });
});
