/**
 * Leftovers of dead runs under a spool root: found with their size and why, removed (with the
 * processes a dead run left running on them), while live runs' directories stay untouched.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../../../core/host/processes';
import { currentHostBoot, processStartTime } from '../../../core/host/process-identity';
import { findLeftovers, reclaimLeftovers } from '../../../core/runs/leftovers';
import { MAX_RUN_MS } from '../../../core/runs/run-holder';
import { claimRunDir, dataKeyFileOf, ownerFileOf, type RunDirOwner } from '../../../core/runs/run-dir';
import { temporaryFileOf } from '../../../core/io/json-file';
import { backupRunDir, drillRunDir, restoreRunDir } from '../../../core/runs/spool-layout';
import { newBackupId } from '../../../core/catalog/layout';
import { killStarted, startNamed, startSleep, until } from '../host/process-fixture';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-leftovers-'));
});
afterEach(async () => {
  killStarted();
  await rm(root, { recursive: true, force: true });
});

function owner(kind: RunDirOwner['kind'], id: string, processes: RunDirOwner['holder']['processes'], extra: Partial<RunDirOwner> = {}): RunDirOwner {
  return {
    formatVersion: 1, kind, id, engine: 'etcd', instance: 'main', runId: `run-${id}`,
    holder: { ...currentHostBoot(), processes }, updatedAt: new Date().toISOString(), ...extra,
  };
}

/** A run directory owned as given, with `bytes` of spooled data. */
async function runDir(dir: string, record: RunDirOwner, bytes: number): Promise<void> {
  await claimRunDir(dir, record);
  await writeFile(path.join(dir, 'snapshot.db'), Buffer.alloc(bytes));
}

const dead = () => [{ pid: spawnSync('true').pid }];

describe('leftovers of dead runs', () => {
  it('removes dead runs\' directories and keeps live ones untouched', async () => {
    // Prepare
    const pid = await startSleep();
    const live = backupRunDir(root, 'live-backup', 'default');
    const killedBackup = backupRunDir(root, 'killed-backup', 'default');
    const killedRestore = restoreRunDir(root, 'killed-restore', 'default');
    await runDir(live, owner('backup', 'live', [{ pid, startTime: processStartTime(pid) }]), 1000);
    await runDir(killedBackup, owner('backup', 'killed', dead()), 3000);
    await runDir(killedRestore, owner('restore', 'killed-restore', dead()), 2000);

    // Act
    const found = await findLeftovers(root);
    const reclaimed = await reclaimLeftovers(root);

    // Assess
    const byPath = Object.fromEntries(found.map((l) => [l.path, l]));
    expect(byPath[live]).toMatchObject({ action: 'keep', reason: expect.stringMatching(`process ${pid} is running`) });
    expect(byPath[killedBackup]).toMatchObject({ action: 'remove', kind: 'backup', id: 'killed-backup', node: 'default', bytes: expect.any(Number) });
    expect(byPath[killedBackup].bytes).toBeGreaterThanOrEqual(3000);
    expect(byPath[killedRestore]).toMatchObject({ action: 'remove', kind: 'restore', reason: expect.stringMatching(/is dead/) });
    expect(reclaimed.filter((l) => l.action === 'remove').map((l) => l.path).sort()).toEqual([killedBackup, killedRestore].sort());
    expect(await readdir(path.join(root, 'backup'))).toEqual(['live-backup']);
    expect(await readdir(path.join(root, 'restore'))).toEqual([]);
    await expect(stat(ownerFileOf(killedBackup))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(path.join(live, 'snapshot.db'))).size).toBe(1000);
    expect((await readdir(path.join(root, 'backup', 'live-backup'))).sort()).toEqual(['default', 'default.owner.json']);
  });

  it('keeps a dead run\'s completed snapshot while it can be resumed', async () => {
    // Prepare
    const now = new Date();
    const dir = backupRunDir(root, 'resumable', 'default');
    await runDir(dir, owner('backup', 'resumable', dead(), { resumableUntil: new Date(now.getTime() + 60_000).toISOString() }), 10);

    // Act
    const during = await reclaimLeftovers(root, { now });
    const after = await findLeftovers(root, { now: new Date(now.getTime() + 120_000) });

    // Assess
    expect(during[0]).toMatchObject({ action: 'keep', reason: expect.stringMatching(/kept for a resume until/) });
    expect(after[0].action).toBe('remove');
  });

  it('removes a dead run\'s completed snapshot within its resume window once its backup is gone from the store (a later run discarded it)', async () => {
    // Prepare
    const now = new Date();
    const dir = backupRunDir(root, 'discarded', 'default');
    await runDir(dir, owner('backup', 'discarded', dead(), { resumableUntil: new Date(now.getTime() + 60_000).toISOString() }), 10);
    const asked: unknown[] = [];
    const gone = (answer: boolean | Error) => async (backup: unknown) => { asked.push(backup); if (answer instanceof Error) throw answer; return answer; };

    // Act
    const stillThere = await findLeftovers(root, { now, backupGone: gone(false) });
    const storeDown = await findLeftovers(root, { now, backupGone: gone(new Error('store unreachable')) });
    const reclaimed = await reclaimLeftovers(root, { now, backupGone: gone(true) });

    // Assess
    expect(stillThere[0].action).toBe('keep');
    expect(storeDown[0].action).toBe('keep');
    expect(reclaimed[0]).toMatchObject({ action: 'remove', reason: expect.stringMatching(/run record is gone from the store \(discarded, or finished\): nothing left to resume/) });
    expect(asked[0]).toEqual({ engine: expect.any(String), instance: expect.any(String), backupId: 'discarded' });
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes a directory without owner record only once it has been untouched for a whole run\'s time', async () => {
    // Prepare: an older version's spool (no owner record), and one being created this instant
    const old = path.join(root, 'backup', 'old-version', 'default');
    const fresh = path.join(root, 'backup', 'starting', 'default');
    await mkdir(old, { recursive: true });
    await writeFile(path.join(old, 'snapshot.db'), 'x'.repeat(100));
    const long = new Date(Date.now() - MAX_RUN_MS - 60_000);
    await utimes(path.join(old, 'snapshot.db'), long, long);
    await utimes(old, long, long);
    await mkdir(fresh, { recursive: true });

    // Act
    const decisions = await reclaimLeftovers(root);

    // Assess
    expect(decisions.find((l) => l.path === old)).toMatchObject({ action: 'remove', bytes: 100, reason: expect.stringMatching(/no owner record/) });
    expect(decisions.find((l) => l.path === fresh)?.action).toBe('keep');
    expect(await readdir(path.join(root, 'backup'))).toEqual(['starting']);
  });

  it('stops the processes a dead run left running on its directory before removing it', async () => {
    // Prepare: a detached server on the dead run's scratch copy, and an unrelated process
    const dir = backupRunDir(root, 'orphaned', 'default');
    await runDir(dir, owner('backup', 'orphaned', dead()), 10);
    const orphan = await startNamed('mariadbd', `--datadir=${dir}/.physical-snapshot/data`);
    const unrelated = await startSleep();

    // Act
    const [decision] = await reclaimLeftovers(root, { stopTimeoutMs: 2_000 });

    // Assess
    expect(decision).toMatchObject({ action: 'remove', orphans: [{ pid: orphan, program: 'mariadbd' }], reason: expect.stringMatching(`mariadbd \\(pid ${orphan}\\)`) });
    await until(() => !isAlive(orphan), 'the orphan to stop');
    expect(isAlive(unrelated)).toBe(true);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes a drill\'s scratch target its teardown never reached once a whole run\'s time has passed, stopping what it left running', async () => {
    // Prepare: the scratch server of a drill that began 25 h ago, and one of a drill still running
    const now = new Date();
    const old = drillRunDir(root, newBackupId(new Date(now.getTime() - MAX_RUN_MS - 3600_000)));
    const running = drillRunDir(root, newBackupId(new Date(now.getTime() - 60_000)));
    await mkdir(path.join(old, 'server', 'data'), { recursive: true });
    await mkdir(path.join(running, 'server', 'data'), { recursive: true });
    const orphan = await startNamed('mariadbd', `--datadir=${old}/server/data`);

    // Act
    const decisions = await reclaimLeftovers(root, { now, stopTimeoutMs: 2_000 });

    // Assess
    expect(decisions.find((l) => l.path === old)).toMatchObject({ kind: 'drill', action: 'remove', orphans: [{ pid: orphan, program: 'mariadbd' }], reason: expect.stringMatching(/never torn down/) });
    expect(decisions.find((l) => l.path === running)).toMatchObject({ kind: 'drill', action: 'keep' });
    await until(() => !isAlive(orphan), 'the orphan to stop');
    expect(await readdir(path.join(root, 'drill'))).toEqual([path.basename(running)]);
  });

  it('removes a drill\'s scratch target as soon as the processes that ran the drill are gone (an interrupted CLI), and keeps a running one', async () => {
    // Prepare: two drills begun a minute ago, one whose orchestrator and start step are dead (its scratch server still runs), one held by a live process
    const now = new Date();
    const interrupted = drillRunDir(root, newBackupId(new Date(now.getTime() - 60_000)));
    const running = drillRunDir(root, newBackupId(new Date(now.getTime() - 30_000)));
    await claimRunDir(interrupted, owner('drill', path.basename(interrupted), dead()));
    await claimRunDir(running, owner('drill', path.basename(running), [{ pid: process.pid, startTime: processStartTime(process.pid) }]));
    await mkdir(path.join(interrupted, 'server', 'data'), { recursive: true });
    const orphan = await startNamed('mariadbd', `--datadir=${interrupted}/server/data`);

    // Act
    const decisions = await reclaimLeftovers(root, { now, stopTimeoutMs: 2_000 });

    // Assess
    expect(decisions.find((l) => l.path === interrupted)).toMatchObject({ kind: 'drill', action: 'remove', orphans: [{ pid: orphan, program: 'mariadbd' }], reason: expect.stringMatching(/its drill is over/) });
    expect(decisions.find((l) => l.path === running)).toMatchObject({ kind: 'drill', action: 'keep', reason: expect.stringMatching(`process ${process.pid} is running`) });
    await until(() => !isAlive(orphan), 'the orphan to stop');
    expect((await readdir(path.join(root, 'drill'))).sort()).toEqual([path.basename(running), `${path.basename(running)}.owner.json`].sort());
  });

  it('removes the record of a dead run whose directory is already gone', async () => {
    // Prepare: a release interrupted between removing the directory and its record
    const dir = restoreRunDir(root, 'half-released', 'default');
    await runDir(dir, owner('restore', 'half-released', dead()), 10);
    await rm(dir, { recursive: true });

    // Act
    const [decision] = await reclaimLeftovers(root);

    // Assess
    expect(decision).toMatchObject({ kind: 'record', action: 'remove', path: ownerFileOf(dir) });
    expect(await readdir(path.join(root, 'restore'))).toEqual([]);
  });

  it('removes a data key whose run left neither its directory nor its record, and keeps a live run\'s', async () => {
    // Prepare: a run that died between removing its directory and its key; a live one beside it
    const gone = backupRunDir(root, newBackupId(new Date()), 'default');
    await mkdir(path.dirname(gone), { recursive: true });
    await writeFile(dataKeyFileOf(gone), '{}', { mode: 0o600 });
    const crashedWrite = temporaryFileOf(dataKeyFileOf(gone));
    await writeFile(crashedWrite, '{}', { mode: 0o600 });
    const live = backupRunDir(root, newBackupId(new Date(Date.now() + 1000)), 'default');
    await runDir(live, owner('backup', 'live', [{ pid: process.pid, startTime: processStartTime(process.pid) }]), 10);
    await writeFile(dataKeyFileOf(live), '{}', { mode: 0o600 });

    // Act
    const decisions = await reclaimLeftovers(root);

    // Assess
    expect(decisions.filter((d) => d.action === 'remove').map((d) => d.path).sort()).toEqual([dataKeyFileOf(gone), crashedWrite].sort());
    expect(await readdir(path.dirname(gone)).catch(() => [])).toEqual([]);
    expect((await stat(dataKeyFileOf(live))).isFile()).toBe(true);
  });

  it('leaves another host\'s directory alone', async () => {
    const dir = restoreRunDir(root, 'elsewhere', 'default');
    await runDir(dir, { ...owner('restore', 'elsewhere', dead()), holder: { host: `not-${os.hostname()}`, processes: [{ pid: 1 }] } }, 10);

    const [decision] = await reclaimLeftovers(root);

    expect(decision).toMatchObject({ action: 'keep', reason: expect.stringMatching(/cannot be checked/) });
    expect((await stat(dir)).isDirectory()).toBe(true);
  });
});
