/**
 * Killed CLI runs, as a user meets them: real `dbbackup` processes SIGKILLed mid-run, real etcd,
 * s3rver behind a proxy that counts what reaches it. A rerun continues the killed backup and sends
 * only the parts S3 had not acknowledged; the leftovers of dead runs on this host are reclaimed at
 * the next run (and reported and removed by `prune`), while a live run's spool is never touched.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { freeMemberUrls, startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';
import { killHard, runCli, startCli, waitFor, type CliRun } from '../../harness/cli-process';
import { startCountingProxy, type CountingProxy } from '../../harness/counting-proxy';
import { startS3rver, type S3rverHandle } from '../../harness/s3rver';
import { tempDir } from '../../harness/test-run';

const MiB = 1024 * 1024;
/** The S3 store's default part size (core/store/s3-file-upload.ts). */
const PART_SIZE = 8 * MiB;

let work: string;
let spool: string;
let big: TestEtcd;
let small: TestEtcd;
let s3: S3rverHandle;
let proxy: CountingProxy;
let env: NodeJS.ProcessEnv;
const paused: CliRun[] = [];

beforeAll(async () => {
  work = await tempDir('killed');
  spool = path.join(work, 'spool');
  s3 = await startS3rver('backups');
  proxy = await startCountingProxy(s3.endpoint);
  env = {
    DBBACKUP_STORE: `s3://${s3.bucket}/killed`,
    DBBACKUP_SPOOL_DIR: spool,
    DBBACKUP_RETRY_ATTEMPTS: '1',
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  big = await startTestEtcd('killed-big');
  await writeKeys(big.client, 40_000, { valueBytes: 1024, binary: true });
  small = await startTestEtcd('killed-small');
  await writeKeys(small.client, 300, { valueBytes: 512 });
}, 300_000);

afterAll(async () => {
  for (const run of paused) run.child.kill('SIGKILL');
  await stopAllEtcd();
  await proxy?.stop();
  await s3?.stop();
  await rm(work, { recursive: true, force: true });
});

const configOf = (etcd: TestEtcd) => JSON.stringify({ endpoints: [etcd.clientUrl] });

/** Owner records of the run directories of backups under the spool, with their paths. */
async function backupRunDirs(): Promise<{ dir: string; owner: { instance: string; runId: string } }[]> {
  const found: { dir: string; owner: { instance: string; runId: string } }[] = [];
  for (const id of await readdir(path.join(spool, 'backup')).catch(() => [] as string[])) {
    const dir = path.join(spool, 'backup', id, 'default');
    const owner = await readFile(`${dir}.owner.json`, 'utf8').then((t) => JSON.parse(t), () => undefined);
    if (owner) found.push({ dir, owner });
  }
  return found;
}

/** The run directory of the backup of `instance`, once its snapshot is in the spool. */
async function spooledRunDir(instance: string): Promise<string | undefined> {
  for (const { dir, owner } of await backupRunDirs()) {
    if (owner.instance !== instance) continue;
    if (await stat(path.join(dir, 'snapshot.db')).then(() => true, () => false)) return dir;
  }
  return undefined;
}

/** The restore run directories holding a partial download with some bytes in it. */
async function partialDownloads(): Promise<string[]> {
  const dirs: string[] = [];
  const within = async (dir: string) => (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  for (const dir of (await Promise.all((await within(path.join(spool, 'restore'))).map(within))).flat()) {
    for (const file of (await readdir(dir).catch(() => [] as string[])).filter((f) => f.includes('.dbbackup-tmp-'))) {
      if (((await stat(path.join(dir, file)).catch(() => undefined))?.size ?? 0) > 0) dirs.push(dir);
    }
  }
  return dirs;
}

/** A restore of `latest` of instance `small`, SIGKILLed while it downloads: a dead run's partial download (in its node's run directory). */
async function killedRestore(): Promise<string> {
  const target = JSON.stringify({ dataDir: path.join(work, `restored-${Date.now()}`, 'data'), ...(await freeMemberUrls()) });
  const run = startCli(['restore', 'latest', '--engine', 'etcd', '--instance', 'small', '--target', target, '--rate-limit', '16KB/s'], env);
  const [dir] = await waitFor(run, 'a partial download', async () => {
    const found = await partialDownloads();
    return found.length > 0 ? found : undefined;
  });
  await killHard(run);
  return dir;
}

/** A backup of `instance` (of the small etcd), paused (SIGSTOP) once its snapshot is spooled: a live run. */
async function pausedBackup(instance: string): Promise<{ run: CliRun; dir: string }> {
  const run = startCli(['--json', 'backup', 'etcd', '--instance', instance, '--config', configOf(small), '--rate-limit', '64KB/s'], env);
  const dir = await waitFor(run, `the spool of ${instance}`, () => spooledRunDir(instance));
  run.child.kill('SIGSTOP');
  paused.push(run);
  return { run, dir };
}

describe('a killed CLI run', () => {
  beforeAll(async () => {
    const made = await runCli(['--json', 'backup', 'etcd', '--instance', 'small', '--config', configOf(small)], env);
    expect(made.code).toBe(0);
  }, 120_000);

  it('is resumed by the rerun, which sends only what S3 had not acknowledged; dead leftovers go, a live run is untouched', async () => {
    // Prepare: a backup killed mid-upload, a restore killed mid-download, and a live (paused) backup
    const killed = startCli(['--json', 'backup', 'etcd', '--instance', 'big', '--config', configOf(big), '--rate-limit', '8MB/s'], env);
    const checkpointFile = await waitFor(killed, 'two acknowledged parts', async () => {
      const dir = await spooledRunDir('big');
      const file = dir && path.join(dir, 'snapshot.db.upload-checkpoint.json');
      const checkpoint = file && await readFile(file, 'utf8').then((t) => JSON.parse(t) as { parts: unknown[] }, () => undefined);
      return checkpoint && checkpoint.parts.length >= 2 ? file : undefined;
    });
    await killHard(killed);
    const left = JSON.parse(await readFile(checkpointFile, 'utf8')) as { fileSize: number; partSize: number; parts: { PartNumber: number }[] };
    const killedDir = path.dirname(checkpointFile);
    const killedBackupId = path.basename(path.dirname(killedDir));
    const deadRestore = await killedRestore();
    const live = await pausedBackup('live');
    const liveOwner = await readFile(`${live.dir}.owner.json`, 'utf8');
    proxy.reset();

    // Act
    const rerun = await runCli(['--json', 'backup', 'etcd', '--instance', 'big', '--config', configOf(big)], env);
    const sent = proxy.counts();

    // Assess: the same backup, continued, only the unacknowledged parts sent
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout);
    const totalParts = Math.ceil(left.fileSize / left.partSize);
    const acknowledged = left.parts.map((p) => p.PartNumber);
    const acknowledgedBytes = acknowledged.reduce((sum, n) => sum + Math.min(left.partSize, left.fileSize - (n - 1) * left.partSize), 0);
    expect(left.partSize).toBe(PART_SIZE);
    expect(acknowledged.length).toBeLessThan(totalParts);
    expect(summary).toMatchObject({ backupId: killedBackupId, resume: { resumed: true, candidate: killedBackupId }, validation: { ok: true } });
    expect(summary.resume.reason).toMatch(/process \d+ is gone/);
    expect(sent.parts).toBe(totalParts - acknowledged.length);
    expect(sent.partBytes).toBe(left.fileSize - acknowledgedBytes);
    expect(summary.sentBytes).toBe(left.fileSize - acknowledgedBytes);
    expect(sent.putBytes).toBeLessThan(64 * 1024); // small JSON records only, no artifact sent whole

    // … the dead runs' leftovers are gone, the live run's spool is as it was
    await expect(stat(deadRestore)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(killedDir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(`${live.dir}.owner.json`, 'utf8')).toBe(liveOwner);
    expect((await stat(path.join(live.dir, 'snapshot.db'))).isFile()).toBe(true);

    // … the resumed backup verifies and restores
    const verify = await runCli(['verify', killedBackupId], env);
    expect(verify.code).toBe(0);
    expect(verify.stderr).not.toContain('NodeVersionSupportWarning'); // the AWS SDK's eight lines on Node 20: the README says it once
    const dataDir = path.join(work, 'restored-big', 'data');
    const restore = await runCli(['--json', 'restore', killedBackupId, '--target', JSON.stringify({ dataDir, ...(await freeMemberUrls()) })], env);
    await stopMember(memberPidFile(dataDir));
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ backupId: killedBackupId, validation: { ok: true } });

    // … and the live run, continued, completes undisturbed
    live.run.child.kill('SIGCONT');
    const finished = await live.run.exited;
    expect(finished.code).toBe(0);
    expect(JSON.parse(finished.stdout)).toMatchObject({ instance: 'live', validation: { ok: true } });
    await expect(stat(live.dir)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 900_000);

  it('leaves leftovers to prune: reported with size and why, removed with --apply, a live run kept', async () => {
    // Prepare (the live run first: the first step of a run reclaims the leftovers already there)
    const live = await pausedBackup('live-prune');
    const deadRestore = await killedRestore();

    // Act
    const dry = await runCli(['--json', 'prune', '--keep-last', '10', '--engine', 'etcd'], env);
    const dirsAfterDryRun = await Promise.all([stat(deadRestore), stat(live.dir)]);
    const applied = await runCli(['prune', '--keep-last', '10', '--engine', 'etcd', '--apply'], env);

    // Assess
    expect(dry.code).toBe(0);
    const leftovers = (JSON.parse(dry.stdout) as { kind: string; path?: string; bytes?: number; action: string; reason: string }[]).filter((d) => d.kind === 'leftover');
    expect(leftovers).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: deadRestore, action: 'delete', reason: expect.stringMatching(/is dead: process \d+ is gone/) }),
      expect.objectContaining({ path: live.dir, action: 'keep', reason: expect.stringMatching(/is alive: process \d+ is running/) }),
    ]));
    expect(leftovers.find((l) => l.path === deadRestore)?.bytes).toBeGreaterThan(0);
    expect(dirsAfterDryRun.every((s) => s.isDirectory())).toBe(true);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/removed .*restore/);
    expect(applied.stdout).toMatch(/1 leftover\(s\) of dead runs removed/);
    await expect(stat(deadRestore)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(path.join(live.dir, 'snapshot.db'))).isFile()).toBe(true);

    live.run.child.kill('SIGCONT');
    expect((await live.run.exited).code).toBe(0);
  }, 600_000);
});
