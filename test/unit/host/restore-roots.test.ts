/**
 * A forced restore replaces data only inside the restore roots and on the servers the host's own
 * configuration names; in AWS every restore, forced or not, writes only there.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { settingsFromEnv } from '../../../core/config/settings';
import { assertRestoreAllowed, type RestoreWrites } from '../../../core/host/restore-roots';

let dir: string;
let root: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-roots-'));
  root = path.join(dir, 'restores');
  await mkdir(root);
  await mkdir(path.join(dir, 'production'));
  await symlink(path.join(dir, 'production'), path.join(root, 'link'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const forcedRestore = (paths: string[] | undefined): RestoreWrites => ({ engine: 'etcd', force: true, confined: false, paths, servers: [] });
const allowedForced = (paths: string[] | undefined, roots = [root]) => assertRestoreAllowed(forcedRestore(paths), { roots, servers: [] });

describe('assertRestoreAllowed, forced', () => {
  it('lets a forced restore replace a path strictly inside a root, existing or not', async () => {
    await expect(allowedForced([path.join(root, 'etcd')])).resolves.toBeUndefined();
    await expect(allowedForced([path.join(root, 'new', 'deeper')])).resolves.toBeUndefined();
    await expect(allowedForced([])).resolves.toBeUndefined();
  });

  it('refuses a path outside the roots, the root itself, a sibling sharing its prefix, and a link out of it', async () => {
    for (const wanted of [path.join(dir, 'production'), root, `${root}-evil/data`, path.join(root, 'link', 'data')]) {
      await expect(allowedForced([wanted])).rejects.toMatchObject({ code: 'RESTORE_ROOT_REFUSED' });
    }
    await expect(allowedForced([path.join(root, 'link', 'data')])).rejects.toThrow(`(${path.join(dir, 'production', 'data')})`);
  });

  it('refuses force on a host that names no roots, saying which setting to set', async () => {
    const refusal = allowedForced(['/var/lib/etcd'], []);

    await expect(refusal).rejects.toThrow(/^force would replace \/var\/lib\/etcd, which is not inside a restore root, and this host allows none; .*DBBACKUP_RESTORE_ROOTS/);
  });

  it('refuses force for a driver that does not say what it replaces, and lets any restore without force through', async () => {
    await expect(allowedForced(undefined)).rejects.toThrow(/engine 'etcd' does not say which host paths a forced restore replaces/);
    await expect(assertRestoreAllowed({ ...forcedRestore(['/var/lib/etcd']), force: false }, { roots: [], servers: [] })).resolves.toBeUndefined();
  });
});

describe('assertRestoreAllowed, started in AWS (confined)', () => {
  const confined = (paths: string[] | undefined, servers: string[] = []): RestoreWrites => ({ engine: 'etcd', force: false, confined: true, paths, servers });

  it('holds a restore without force to the roots and servers too, in its own words', async () => {
    await expect(assertRestoreAllowed(confined([path.join(root, 'etcd')]), { roots: [root], servers: [] })).resolves.toBeUndefined();
    await expect(assertRestoreAllowed(confined([path.join(dir, 'production')]), { roots: [root], servers: [] })).rejects.toThrow(
      new RegExp(`^the restore would write ${path.join(dir, 'production')}, which is not inside the restore roots this host allows .*; a restore started in AWS writes only inside the directories .* DBBACKUP_RESTORE_ROOTS`),
    );
    await expect(assertRestoreAllowed(confined([], ['prod-db:3306']), { roots: [], servers: ['restore-db:*'] })).rejects.toThrow(
      /^the restore would load the backup's data into prod-db:3306, which is not among the servers this host allows \(restore-db:\*\); a restore started in AWS writes only on the servers .* DBBACKUP_RESTORE_SERVERS/,
    );
    await expect(assertRestoreAllowed(confined(undefined), { roots: [root], servers: [] })).rejects.toThrow(/engine 'etcd' does not say which host paths its restore writes/);
  });

  it('words a forced restore started in AWS as forced', async () => {
    await expect(assertRestoreAllowed({ ...confined(['/var/lib/etcd']), force: true }, { roots: [], servers: [] })).rejects.toThrow(/^force would replace \/var\/lib\/etcd, which is not inside a restore root/);
  });
});

describe('DBBACKUP_RESTORE_ROOTS', () => {
  it('is a :-separated list of absolute directories, none by default', () => {
    expect(settingsFromEnv({ DBBACKUP_RESTORE_ROOTS: '/srv/restores:/data/scratch' }).restoreRoots).toEqual(['/srv/restores', '/data/scratch']);
    expect(settingsFromEnv({}).restoreRoots).toEqual([]);
    expect(() => settingsFromEnv({ DBBACKUP_RESTORE_ROOTS: '/srv:scratch' })).toThrow("DBBACKUP_RESTORE_ROOTS: every root must be an absolute path (got 'scratch')");
  });
});

describe('forced restores over the network (DBBACKUP_RESTORE_SERVERS)', () => {
  const overNetwork = (replaced: string[], servers: string[]) => assertRestoreAllowed({ engine: 'mysql', force: true, confined: false, paths: [], servers: replaced }, { roots: [], servers });

  it('go only to a server the host names: host:port, host:* or a unix: socket', async () => {
    await expect(overNetwork(['127.0.0.1:3307'], ['127.0.0.1:3307'])).resolves.toBeUndefined();
    await expect(overNetwork(['Restore-DB:3306'], ['restore-db:*'])).resolves.toBeUndefined();
    await expect(overNetwork(['unix:/run/mysqld/restore.sock'], ['unix:/run/mysqld/restore.sock'])).resolves.toBeUndefined();
    for (const [server, allowed] of [['127.0.0.1:3306', '127.0.0.1:3307'], ['prod-db:3306', 'restore-db:*'], ['unix:/run/mysqld/mysqld.sock', 'unix:/run/mysqld/restore.sock']]) {
      await expect(overNetwork([server], [allowed])).rejects.toMatchObject({ code: 'RESTORE_ROOT_REFUSED' });
    }
  });

  it('are refused on a host that names no servers, saying which setting to set', async () => {
    await expect(overNetwork(['prod-db:3306'], [])).rejects.toThrow(
      /^force would replace data on the server prod-db:3306, which is not a server this host allows, and it allows none; a forced restore replaces data only on the servers the host's own configuration names in DBBACKUP_RESTORE_SERVERS/,
    );
  });

  it('read from the setting, which refuses what is not host:port, host:* or unix:/path', () => {
    expect(settingsFromEnv({ DBBACKUP_RESTORE_SERVERS: ' restore-db:3306, 127.0.0.1:* ,unix:/run/r.sock' }).restoreServers).toEqual(['restore-db:3306', '127.0.0.1:*', 'unix:/run/r.sock']);
    for (const bad of ['restore-db', 'restore-db:0', 'http://db:3306', 'unix:relative.sock']) {
      expect(() => settingsFromEnv({ DBBACKUP_RESTORE_SERVERS: bad })).toThrow(/DBBACKUP_RESTORE_SERVERS: .* is not host:port, host:\* or unix:\/path\/to\/socket/);
    }
  });
});
