/**
 * A restore into a data directory on this host: empty or `force`, or this restore's own unfinished
 * work (its marker: same backup and same restore); a taken port refused. One code per situation.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { assertPortFree, replaceableEntries, type DataDirRestore } from '../../../core/host/data-dir-target';
import { freePort } from '../../../core/host/ports';
import { isOwnRestore, removeRestoreMarker, restoreMarkerFile, writeRestoreMarker } from '../../../core/host/restore-marker';

let dir: string;
let restore: DataDirRestore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-data-dir-target-'));
  restore = { engine: 'test', dataDir: path.join(dir, 'data'), backupId: 'bk-1', spoolDir: path.join(dir, 'spool', 'restore-1'), force: false };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Puts `count` files into the data dir. */
async function fill(count: number): Promise<void> {
  await mkdir(restore.dataDir, { recursive: true });
  for (let i = 0; i < count; i += 1) await writeFile(path.join(restore.dataDir, `f${i}`), 'x');
}

describe('replaceableEntries', () => {
  it('takes a missing or empty data dir as it is', async () => {
    // Act
    const missing = await replaceableEntries(restore);
    await mkdir(restore.dataDir);
    const empty = await replaceableEntries(restore);

    // Assess
    expect(missing).toEqual({ entries: [], own: false });
    expect(empty).toEqual({ entries: [], own: false });
  });

  it('refuses a non-empty data dir with TARGET_NOT_EMPTY naming its first entries, and says so when it changed after prepare', async () => {
    // Prepare
    await fill(7);

    // Act
    const atPrepare = await replaceableEntries(restore).catch((e: unknown) => e);
    const atRestore = await replaceableEntries(restore, true).catch((e: unknown) => e);

    // Assess
    expect(atPrepare).toMatchObject({ name: 'PermanentError', code: 'TARGET_NOT_EMPTY', engine: 'test' });
    expect((atPrepare as Error).message).toMatch(/data dir .*\/data is not empty \(7 entries: f0, f1, f2, f3, f4, …\); pass --force/);
    expect((atRestore as Error).message).toMatch(/it changed after the prepare step, and this restore did not write it/);
  });

  it('refuses a data dir that is a file, or below one, with INVALID_TARGET naming it, even with force', async () => {
    // Prepare
    await writeFile(restore.dataDir, 'not a directory');

    // Act
    const file = await replaceableEntries({ ...restore, force: true }).catch((e: unknown) => e);
    const below = await replaceableEntries({ ...restore, dataDir: path.join(restore.dataDir, 'member') }).catch((e: unknown) => e);

    // Assess
    for (const [error, at] of [[file, restore.dataDir], [below, path.join(restore.dataDir, 'member')]] as const) {
      expect(error).toMatchObject({ name: 'PermanentError', code: 'INVALID_TARGET', engine: 'test' });
      expect((error as Error).message).toBe(`restore target data dir ${at} is not a directory (a file is there, or on its path): give a directory, empty or not yet made`);
    }
    expect(await readFile(restore.dataDir, 'utf8')).toBe('not a directory');
  });

  it('replaces a non-empty data dir with force', async () => {
    // Prepare
    await fill(2);

    // Act
    const forced = await replaceableEntries({ ...restore, force: true });

    // Assess
    expect(forced).toEqual({ entries: ['f0', 'f1'], own: false });
  });

  it('takes a data dir this same restore left half-written as its own, not one another restore left', async () => {
    // Prepare
    await fill(1);
    await writeRestoreMarker(restore.dataDir, restore);

    // Act
    const retry = await replaceableEntries(restore);
    const other = await replaceableEntries({ ...restore, spoolDir: path.join(dir, 'spool', 'restore-2') }).catch((e: unknown) => e);
    const otherBackup = await replaceableEntries({ ...restore, backupId: 'bk-2' }).catch((e: unknown) => e);

    // Assess
    expect(retry).toEqual({ entries: ['f0'], own: true });
    expect(other).toMatchObject({ code: 'TARGET_NOT_EMPTY' });
    expect(otherBackup).toMatchObject({ code: 'TARGET_NOT_EMPTY' });
  });
});

describe('restore marker', () => {
  it('sits next to the data dir, names the backup and the restore, and goes when removed', async () => {
    // Act
    await writeRestoreMarker(restore.dataDir, restore);
    const marker = JSON.parse(await readFile(restoreMarkerFile(restore.dataDir), 'utf8'));
    await removeRestoreMarker(restore.dataDir);

    // Assess
    expect(restoreMarkerFile(restore.dataDir)).toBe(`${restore.dataDir}.restore.json`);
    expect(marker).toMatchObject({ backupId: 'bk-1', spoolDir: restore.spoolDir, startedAt: expect.any(String) });
    expect(await isOwnRestore(restore.dataDir, restore)).toBe(false);
  });

  it('counts a marker of the same backup from an older version (no spool dir) as this restore\'s', async () => {
    // Prepare
    await writeFile(restoreMarkerFile(restore.dataDir), JSON.stringify({ backupId: 'bk-1', startedAt: '2026-01-01T00:00:00Z' }));

    // Act & Assess
    expect(await isOwnRestore(restore.dataDir, restore)).toBe(true);
    expect(await isOwnRestore(restore.dataDir, { ...restore, backupId: 'bk-2' })).toBe(false);
  });
});

describe('assertPortFree', () => {
  it('refuses a port something listens on with TARGET_PORT_IN_USE, and passes a free one', async () => {
    // Prepare
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;

    try {
      // Act
      const refused = await assertPortFree('test', { host: '127.0.0.1', port: taken }, `port ${taken} on 127.0.0.1`, 'choose another target port').catch((e: unknown) => e);
      const free = await assertPortFree('test', { host: '127.0.0.1', port: await freePort() }, 'port', 'choose another');

      // Assess
      expect(refused).toMatchObject({
        name: 'PermanentError', code: 'TARGET_PORT_IN_USE', message: `the restore target's port ${taken} on 127.0.0.1 is already in use; choose another target port`,
      });
      expect(free).toBeUndefined();
    } finally {
      server.close();
    }
  });
});
