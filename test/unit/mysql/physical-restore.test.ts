/**
 * What a physical restore refuses before touching anything: a target without a data dir, database
 * renames (the whole server is copied), point-in-time replay without starting the server, and a
 * host or socket the restored server will not listen on. A stale pid file next to the data dir
 * (its pid now an unrelated process) is no running server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../../core/logger';
import type { RestoreContext, StoredArtifact } from '../../../core/driver/types';
import { mysqlRestoreTargetSchema, type MysqlRestoreTarget } from '../../../drivers/mysql/config';
import { PHYSICAL_ARTIFACT } from '../../../drivers/mysql/shared/layout';
import { serverPaths } from '../../../drivers/mysql/shared/local-server';
import { preparePhysicalTarget } from '../../../drivers/mysql/physical/physical-restore';
import { killStarted, startSleep } from '../host/process-fixture';

function ctx(target: Record<string, unknown>, artifacts: StoredArtifact[] = []): RestoreContext<MysqlRestoreTarget> {
  return {
    backupId: '20261121T120000Z-abcdef',
    instance: 'db',
    logger: silentLogger,
    spoolDir: '/nonexistent/spool',
    force: false,
    restoreId: '20261121T130000Z-fedcba', node: { name: 'default' },
    target: mysqlRestoreTargetSchema.parse({ user: 'root', ...target }),
    backup: {
      backupId: '20261121T120000Z-abcdef', engine: 'mysql', instance: 'db', artifacts,
      consistency: { flavor: 'mariadb', serverVersion: '10.11.19-MariaDB', tool: 'mariabackup', lockMs: 3, lock: 'backup-stage' },
      facts: { mode: 'physical', tables: [], databases: [], schema: [] },
    },
  };
}

describe('preparePhysicalTarget refusals', () => {
  it.each([
    [{}, /give target\.physical\.datadir/],
    [{ physical: { datadir: '/srv/restored' }, renameDatabases: { shop: 'shop2' } }, /renameDatabases does not apply/],
    [{ physical: { datadir: '/srv/restored', start: false }, pointInTime: { untilGtid: '0-1-5' } }, /needs the restored server running/],
    [{ physical: { datadir: '/srv/restored' }, host: 'db.example.com' }, /listens on 127\.0\.0\.1 only/],
    [{ physical: { datadir: '/srv/restored' }, socketPath: '/run/mysqld/mysqld.sock' }, /socket will be \/srv\/restored\.sock/],
  ])('refuses %j with INVALID_TARGET', async (target, message) => {
    // Act
    const preparing = preparePhysicalTarget(ctx(target));

    // Assess
    await expect(preparing).rejects.toMatchObject({ name: 'PermanentError', code: 'INVALID_TARGET' });
    await expect(preparing).rejects.toThrow(message);
  });
});

describe('preparePhysicalTarget with a stale pid file next to the data dir', () => {
  let dir: string;
  let datadir: string;
  let listener: Server | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-physical-prepare-'));
    datadir = path.join(dir, 'data');
    await writeFile(serverPaths(datadir).pidFile, `${await startSleep()}\n`);
  });

  afterEach(async () => {
    killStarted();
    await new Promise((resolve) => (listener ? listener.close(resolve) : resolve(undefined)));
    listener = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('reports no running server', async () => {
    // Prepare
    const artifact = { name: PHYSICAL_ARTIFACT, key: `bk/${PHYSICAL_ARTIFACT}`, size: 1, sha256: '0'.repeat(64) };

    // Act
    const prepared = await preparePhysicalTarget(ctx({ physical: { datadir, start: false } }, [artifact]));

    // Assess
    expect(prepared.details).toMatchObject({ mode: 'physical', runningPid: null });
  });

  it('refuses a target port held by another program with TARGET_PORT_IN_USE', async () => {
    // Prepare
    listener = createServer();
    await new Promise<void>((resolve) => listener!.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;

    // Act
    const preparing = preparePhysicalTarget(ctx({ physical: { datadir }, port }));

    // Assess
    await expect(preparing).rejects.toMatchObject({ name: 'PermanentError', code: 'TARGET_PORT_IN_USE' });
  });
});
