/**
 * Claiming run directories: the steps of one attempt hand it on, a dead attempt's is taken over
 * with its content, a live attempt's is never taken, and of two processes taking over one dead
 * attempt's directory at the same time exactly one wins.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { currentHostBoot, processStartTime } from '../../../core/host/process-identity';
import { claimRunDir, createOwner, ownerFileOf, readOwner, releaseRunDir, takeOver, type RunDirOwner } from '../../../core/runs/run-dir';
import { killStarted, startSleep } from '../host/process-fixture';

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-run-dir-'));
  dir = path.join(root, 'backup', 'b1', 'default');
});
afterEach(async () => {
  killStarted();
  await rm(root, { recursive: true, force: true });
});

/** An owner record of attempt `runId` held by `processes` on this host. */
function owner(runId: string, processes: RunDirOwner['holder']['processes']): RunDirOwner {
  return {
    formatVersion: 1, kind: 'backup', id: 'b1', node: 'default', engine: 'etcd', instance: 'main', runId,
    holder: { ...currentHostBoot(), processes }, updatedAt: new Date().toISOString(),
  };
}

const me = () => [{ pid: process.pid, startTime: processStartTime(process.pid) }];
const deadProcess = () => [{ pid: spawnSync('true').pid }];

describe('claimRunDir', () => {
  it('creates the directory, private, with the owner record', async () => {
    // Act
    const previous = await claimRunDir(dir, owner('a1', me()));

    // Assess
    expect(previous).toBeUndefined();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(ownerFileOf(dir))).mode & 0o777).toBe(0o600);
    expect((await readOwner(dir))?.owner?.runId).toBe('a1');
  });

  it('hands the directory on between the steps of one attempt, keeping its resumable mark', async () => {
    // Prepare
    await claimRunDir(dir, { ...owner('a1', deadProcess()), resumableUntil: '2030-01-01T00:00:00.000Z' });

    // Act
    await claimRunDir(dir, owner('a1', me()));

    // Assess
    expect((await readOwner(dir))?.owner).toMatchObject({ runId: 'a1', resumableUntil: '2030-01-01T00:00:00.000Z', holder: { processes: me() } });
  });

  it('refuses a directory a live attempt owns', async () => {
    // Prepare
    const pid = await startSleep();
    await claimRunDir(dir, owner('live', [{ pid, startTime: processStartTime(pid) }]));

    // Act
    const claiming = claimRunDir(dir, owner('other', me()));

    // Assess
    await expect(claiming).rejects.toMatchObject({ name: 'TransientError', code: 'RUN_DIR_BUSY' });
    expect((await readOwner(dir))?.owner?.runId).toBe('live');
  });

  it('takes over a dead attempt\'s directory with its content', async () => {
    // Prepare
    await claimRunDir(dir, owner('dead', deadProcess()));
    await writeFile(path.join(dir, 'kept'), 'content');

    // Act
    const previous = await claimRunDir(dir, owner('next', me()));

    // Assess
    expect(previous?.runId).toBe('dead');
    expect((await readOwner(dir))?.owner?.runId).toBe('next');
    expect(await readFile(path.join(dir, 'kept'), 'utf8')).toBe('content');
  });

  it('takes over the attempt it resumes while that one\'s hold lasts, but not while one of its processes runs', async () => {
    // Prepare: orchestrated elsewhere (a hold, no process of it running)
    const held = { ...owner('resumed', []), holder: { ...currentHostBoot(), processes: [], until: '2099-01-01T00:00:00.000Z' } };
    await claimRunDir(dir, held);
    const pid = await startSleep();
    const otherDir = path.join(root, 'backup', 'b2', 'default');
    await claimRunDir(otherDir, { ...held, holder: { ...held.holder, processes: [{ pid, startTime: processStartTime(pid) }] } });

    // Act
    const taken = await claimRunDir(dir, owner('resumer', me()), { resumes: 'resumed' });
    const refused = claimRunDir(otherDir, owner('resumer', me()), { resumes: 'resumed' });

    // Assess
    expect(taken?.runId).toBe('resumed');
    await expect(refused).rejects.toMatchObject({ code: 'RUN_DIR_BUSY' });
  });
});

describe('takeOver', () => {
  it('lets exactly one of two takers have a dead owner\'s record', async () => {
    // Prepare
    await claimRunDir(dir, owner('dead', deadProcess()));
    const record = (await readOwner(dir))!;

    // Act
    const results = await Promise.all([takeOver(dir, record), takeOver(dir, record), takeOver(dir, record)]);

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    await expect(stat(ownerFileOf(dir))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('puts back a record that changed since it was judged', async () => {
    // Prepare
    await claimRunDir(dir, owner('dead', deadProcess()));
    const judged = (await readOwner(dir))!;
    expect(await takeOver(dir, judged)).toBe(true);
    expect(await createOwner(dir, owner('newer', me()))).toBe(true);

    // Act
    const stale = await takeOver(dir, judged);

    // Assess
    expect(stale).toBe(false);
    expect((await readOwner(dir))?.owner?.runId).toBe('newer');
  });
});

describe('releaseRunDir', () => {
  it('removes its own attempt\'s directory and leaves a live one\'s', async () => {
    // Prepare
    const pid = await startSleep();
    await claimRunDir(dir, owner('live', [{ pid, startTime: processStartTime(pid) }]));
    const mine = path.join(root, 'restore', 'r1');
    await claimRunDir(mine, owner('r1', me()));

    // Act
    const other = await releaseRunDir(dir, 'not-the-owner');
    const own = await releaseRunDir(mine, 'r1');

    // Assess
    expect(other).toMatchObject({ removed: false, reason: expect.stringMatching(/live|running/) });
    expect((await readOwner(dir))?.owner?.runId).toBe('live');
    expect(own.removed).toBe(true);
    await expect(stat(mine)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(ownerFileOf(mine))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
