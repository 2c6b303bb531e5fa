/**
 * Which incomplete backup a new run continues, step by step against a real etcd and a local store.
 * The killed run's CLI is a real process (a `sleep` standing in for it) that the test kills, so
 * the run's liveness is judged exactly as after a `kill -9`.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  nodeState, prepareBackup, snapshotNode, uploadNode, validateNode,
} from '../../../core/backup/backup-steps';
import { finalizeBackup } from '../../../core/backup/finalize';
import { RESUME_WINDOW_MS } from '../../../core/backup/resume-plan';
import { identityOf, isRunning } from '../../../core/host/process-identity';
import type { StepDeps } from '../../../core/steps/step-deps';
import { PermanentError } from '../../../core/errors';
import { startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { killStarted, startSleep, until } from '../../unit/host/process-fixture';

let etcd: TestEtcd;
let rt: TestRuntime;

beforeAll(async () => {
  etcd = await startTestEtcd('resume-plan');
  await writeKeys(etcd.client, 200);
});
afterAll(() => stopAllEtcd());
beforeEach(async () => {
  rt = await createTestRuntime();
});
afterEach(async () => {
  killStarted();
  await rt.dispose();
});

const request = (extra: Record<string, unknown> = {}) => ({ engine: 'etcd', instance: 'resumable', config: { endpoints: [etcd.clientUrl] }, ...extra });

/** A backup whose CLI (a stand-in process) took the snapshot and was then killed, or is still alive. */
async function interruptedBackup(options: { alive?: boolean; now?: Date } = {}) {
  const cli = identityOf(await startSleep())!;
  const deps: StepDeps = { ...rt.deps, orchestrator: cli };
  const state = await prepareBackup(request(), deps, options.now);
  const node = await snapshotNode(nodeState(state, state.nodes[0]), deps);
  if (!options.alive) {
    process.kill(cli.pid, 'SIGKILL');
    await until(() => !isRunning(cli), 'the stand-in CLI to die');
  }
  return { state, node };
}

const storedBackups = () => readdir(path.join(rt.storeDir, 'backups', 'etcd', 'resumable')).catch(() => [] as string[]);

describe('resuming an incomplete backup', () => {
  it('continues a dead run\'s backup: same id, a new attempt, its snapshot taken over and finished', async () => {
    // Prepare
    const killed = await interruptedBackup();

    // Act
    const state = await prepareBackup(request(), rt.deps);
    let node = await snapshotNode(nodeState(state, state.nodes[0]), rt.deps);
    node = await uploadNode(await validateNode(node, rt.deps), rt.deps);
    const summary = await finalizeBackup({ ...state, nodeResults: [node] }, rt.deps);

    // Assess
    expect(state.backupId).toBe(killed.state.backupId);
    expect(state.run).toMatchObject({ resumes: killed.state.run!.id });
    expect(state.run!.id).not.toBe(killed.state.run!.id);
    expect(state.resumeOutcome).toMatchObject({ resumed: true, candidate: killed.state.backupId, reason: expect.stringMatching(/is gone/) });
    expect(node.snapshot).toEqual(killed.node.snapshot);
    expect(summary).toMatchObject({ backupId: killed.state.backupId, resume: { resumed: true } });
    expect((await rt.catalog.get(summary.backupId)).complete).toBe(true);
    expect(await readdir(path.join(rt.storeDir, killed.state.prefix))).toEqual(['data', 'manifest.json']);
  });

  it('never continues the backup of a run that is still alive', async () => {
    // Prepare
    const live = await interruptedBackup({ alive: true });

    // Act
    const state = await prepareBackup(request(), rt.deps);

    // Assess
    expect(state.backupId).not.toBe(live.state.backupId);
    expect(state.resumeOutcome).toMatchObject({ resumed: false, reason: expect.stringMatching(/still running .*process \d+ is running/) });
    expect((await storedBackups()).sort()).toEqual([live.state.backupId, state.backupId].sort());
  });

  it('continues unasked only within the resume window, and whatever the age when asked to', async () => {
    // Prepare
    const long = new Date(Date.now() - RESUME_WINDOW_MS - 60_000);
    const killed = await interruptedBackup({ now: long });

    // Act (the unasked run's own backup is removed again, so the asked one sees the killed one newest)
    const unasked = await prepareBackup(request(), rt.deps);
    await rm(path.join(rt.storeDir, unasked.prefix), { recursive: true });
    const asked = await prepareBackup(request({ resume: 'always' }), rt.deps);

    // Assess
    expect(unasked.backupId).not.toBe(killed.state.backupId);
    expect(unasked.resumeOutcome).toMatchObject({ resumed: false, candidate: killed.state.backupId, reason: expect.stringMatching(/h ago.*pass --resume/) });
    expect(asked.backupId).toBe(killed.state.backupId);
    expect(asked.resumeOutcome).toMatchObject({ resumed: true, candidate: killed.state.backupId });
  });

  it('takes a new backup when asked never to resume, discarding a dead run\'s backup (it kept it for prune, 48 h) but not a live one\'s', async () => {
    // Prepare
    const live = await interruptedBackup({ alive: true });
    const keptLive = await prepareBackup(request({ resume: 'never' }), rt.deps);
    expect((await storedBackups()).sort()).toEqual([live.state.backupId, keptLive.backupId].sort());
    await rm(path.join(rt.storeDir, keptLive.prefix), { recursive: true });
    await rm(path.join(rt.storeDir, live.state.prefix), { recursive: true });
    const killed = await interruptedBackup();

    // Act
    const never = await prepareBackup(request({ resume: 'never' }), rt.deps);

    // Assess
    expect(keptLive.resumeOutcome).toBeUndefined();
    expect(never.backupId).not.toBe(killed.state.backupId);
    expect(never.resumeOutcome).toMatchObject({ resumed: false, candidate: killed.state.backupId, discarded: true, reason: expect.stringMatching(/^not resumed \(asked never to\): .*whose run died .*was discarded$/) });
    expect(await storedBackups()).toEqual([never.backupId]);
  });

  it('takes a new backup when the config changed, discarding the dead one', async () => {
    // Prepare
    await interruptedBackup();

    // Act
    const changed = await prepareBackup({ ...request(), config: { endpoints: [etcd.clientUrl], dialTimeoutMs: 1234 } }, rt.deps);

    // Assess
    expect(changed.resumeOutcome).toMatchObject({ resumed: false, discarded: true, reason: expect.stringMatching(/config changed/) });
    expect(await storedBackups()).toEqual([changed.backupId]);
  });

  it('takes a new backup, discarding the dead one, when the driver refuses its snapshots together (as the finalize step would)', async () => {
    // Prepare: a driver that takes no two snapshots together (Docstore's schema tables read apart, say)
    const killed = await interruptedBackup();
    const driver = rt.deps.registry.get('etcd').backup!;
    driver.checkNodes = () => { throw new PermanentError('these snapshots do not go together', { code: 'INVALID_INPUT' }); };

    try {
      // Act
      const next = await prepareBackup(request(), rt.deps);

      // Assess
      expect(next.backupId).not.toBe(killed.state.backupId);
      expect(next.resumeOutcome).toMatchObject({ resumed: false, discarded: true, reason: expect.stringContaining('these snapshots do not go together') });
      expect(await storedBackups()).toEqual([next.backupId]);
    } finally {
      delete driver.checkNodes;
    }
  });

  it('takes a new backup when the compression or encryption asked for changed (a new key is never mixed with the one the run started with)', async () => {
    // Prepare
    const killed = await interruptedBackup();

    // Act
    const encrypted = await prepareBackup(request({ compression: { codec: 'zstd', level: 3 }, encryption: { key: { $secret: 'env:BACKUP_KEY' } } }), rt.deps);

    // Assess
    expect(encrypted.backupId).not.toBe(killed.state.backupId);
    expect(encrypted.resumeOutcome).toMatchObject({ resumed: false, discarded: true, reason: expect.stringMatching(/compression or encryption asked for changed/) });
  });

  it('fails with RESUME_IMPOSSIBLE when the host lost the spooled snapshot', async () => {
    // Prepare
    const killed = await interruptedBackup();
    await rm(killed.node.spoolDir!, { recursive: true });

    // Act
    const state = await prepareBackup(request(), rt.deps);
    const snapshot = snapshotNode(nodeState(state, state.nodes[0]), rt.deps);

    // Assess
    expect(state.backupId).toBe(killed.state.backupId);
    await expect(snapshot).rejects.toMatchObject({ name: 'PermanentError', code: 'RESUME_IMPOSSIBLE', message: expect.stringMatching(/snapshot.db is missing/) });
  });
});
