/**
 * Killed MySQL backups, through real CLI processes. A logical backup killed mid-dump cannot be
 * continued: its consistent read view ended with its connections, so the chunks it had already
 * stored belong to a point in time nobody can read again. The rerun says so (log line and JSON),
 * discards the dead backup whole (its stored chunks, the temporary file of the chunk being written,
 * its spool) and takes a new one. A physical backup spooled on the host (`streamToStore: false`)
 * and killed during its upload is continued: the rerun copies only what the store lacks.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { seedShop, startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';
import { killHard, runCli, startCli, waitFor } from '../../harness/cli-process';
import { tempDir } from '../../harness/test-run';

let server: TestMariaDb;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = await startTestMariaDb('killed-dump', 21);
  const admin = await server.connect();
  await seedShop(admin, { bigRows: 120_000 });
  await admin.end();
  work = await tempDir('killed-dump');
  env = { DBBACKUP_STORE: path.join(work, 'store'), DBBACKUP_SPOOL_DIR: path.join(work, 'spool'), DBBACKUP_RETRY_ATTEMPTS: '1' };
}, 180_000);

afterAll(async () => {
  await stopAllMariaDb();
  await rm(work, { recursive: true, force: true });
});

const config = () => JSON.stringify({ ...server.config(), databases: ['shop'], chunkRows: 5_000, parallelism: 1 });
const instanceDir = () => path.join(work, 'store', 'backups', 'mysql', 'shop');

/** Files (names relative to `dir`) under `dir`; `[]` when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('a logical backup killed mid-dump', () => {
  it('is not resumed: the rerun says why, discards it whole and takes a new backup', async () => {
    // Prepare: killed once a few chunks of `big` are in the store
    const killed = startCli(['--json', 'backup', 'mysql', '--instance', 'shop', '--config', config(), '--rate-limit', '64KB/s'], env);
    const killedId = await waitFor(killed, 'stored chunks of big', async () => {
      for (const id of await readdir(instanceDir()).catch(() => [] as string[])) {
        const chunks = (await filesUnder(path.join(instanceDir(), id))).filter((f) => /big\.\d+\.tsv\.zst$/.test(f));
        if (chunks.length >= 2) return id;
      }
      return undefined;
    });
    await killHard(killed);
    const spoolOfKilled = path.join(work, 'spool', 'backup', killedId);
    expect((await stat(spoolOfKilled)).isDirectory()).toBe(true);

    // Act
    const rerun = await runCli(['--json', 'backup', 'mysql', '--instance', 'shop', '--config', config()], env);

    // Assess
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout);
    expect(summary.backupId).not.toBe(killedId);
    expect(summary).toMatchObject({ validation: { ok: true }, resume: { resumed: false, candidate: killedId, discarded: true } });
    expect(summary.resume.reason).toMatch(new RegExp(`^cannot resume backup ${killedId}: a logical dump's consistent read view ended with its connections`)); // one node: not named
    expect(rerun.stderr).toMatch(/cannot resume the incomplete backup; starting a new one/);
    expect(await readdir(instanceDir())).toEqual([summary.backupId]);
    await expect(stat(spoolOfKilled)).rejects.toMatchObject({ code: 'ENOENT' });
    const verify = await runCli(['verify', summary.backupId], env);
    expect(verify.code).toBe(0);
  }, 600_000);
});

describe('a physical backup spooled on the host, killed during its upload', () => {
  it('is continued: re-validated where it lies, only the bytes the store lacks copied', async () => {
    // Prepare: killed once the store's resumable copy has checkpointed some of the xbstream
    const physical = JSON.stringify({ ...server.config(), mode: 'physical', streamToStore: false, physical: { prepareCheck: false } });
    const killed = startCli(['--json', 'backup', 'mysql', '--instance', 'physical', '--config', physical, '--rate-limit', '8MB/s'], env);
    const checkpointFile = await waitFor(killed, 'a checkpointed part of the copy', async () => {
      for (const id of await readdir(path.join(work, 'spool', 'backup')).catch(() => [] as string[])) {
        const file = path.join(work, 'spool', 'backup', id, 'default', 'physical', 'backup.xbstream.upload-checkpoint.json');
        const checkpoint = await readFile(file, 'utf8').then((t) => JSON.parse(t) as { bytesDone: number }, () => undefined);
        if (checkpoint && checkpoint.bytesDone > 0) return file;
      }
      return undefined;
    });
    await killHard(killed);
    const left = JSON.parse(await readFile(checkpointFile, 'utf8')) as { bytesDone: number; fileSize: number };
    const killedId = path.basename(path.dirname(path.dirname(path.dirname(checkpointFile))));

    // Act
    const rerun = await runCli(['--json', 'backup', 'mysql', '--instance', 'physical', '--config', physical], env);

    // Assess
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout);
    expect(left.bytesDone).toBeLessThan(left.fileSize);
    expect(summary).toMatchObject({ backupId: killedId, resume: { resumed: true }, validation: { ok: true }, bytes: left.fileSize });
    expect(summary.sentBytes).toBe(left.fileSize - left.bytesDone);
    await expect(stat(path.join(work, 'spool', 'backup', killedId))).rejects.toMatchObject({ code: 'ENOENT' });
    const verify = await runCli(['verify', killedId], env);
    expect(verify.code).toBe(0);
  }, 600_000);
});
