/**
 * A physical restore finds a server running on its target data dir: it is the restore's to stop
 * only when this restore started it (a retry after its own start) or the target says
 * `physical.stopRunningServer`. Checked by the prepare step, before anything is downloaded.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RestoreContext } from '../../../core/driver/types';
import { recordStartedServer } from '../../../core/host/started-servers';
import { silentLogger } from '../../../core/logger';
import { mysqlRestoreTargetSchema, type MysqlRestoreTarget } from '../../../drivers/mysql/config';
import { PHYSICAL_ARTIFACT } from '../../../drivers/mysql/shared/layout';
import { serverPaths } from '../../../drivers/mysql/shared/local-server';
import { preparePhysicalTarget } from '../../../drivers/mysql/physical/physical-restore';
import { killStarted, startNamed } from '../host/process-fixture';

let dir: string;
let datadir: string;
let pid: number;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-physical-running-'));
  datadir = path.join(dir, 'data');
  await mkdir(datadir);
  await writeFile(path.join(datadir, 'ibdata1'), 'old data');
  const { pidFile } = serverPaths(datadir);
  pid = await startNamed('mariadbd', `--pid-file=${pidFile}`);
  await writeFile(pidFile, `${pid}\n`);
});
afterEach(async () => {
  killStarted();
  await rm(dir, { recursive: true, force: true });
});

function forced(physical: Record<string, unknown> = {}): RestoreContext<MysqlRestoreTarget> {
  const artifact = { name: PHYSICAL_ARTIFACT, key: `bk/${PHYSICAL_ARTIFACT}`, size: 1, sha256: '0'.repeat(64) };
  return {
    backupId: '20261121T120000Z-abcdef', instance: 'db', logger: silentLogger, spoolDir: path.join(dir, 'spool'), force: true,
    restoreId: '20261121T130000Z-0a0b0c', node: { name: 'default' },
    target: mysqlRestoreTargetSchema.parse({ user: 'root', physical: { datadir, start: false, ...physical } }),
    backup: {
      backupId: '20261121T120000Z-abcdef', engine: 'mysql', instance: 'db', artifacts: [artifact],
      consistency: { flavor: 'mariadb', serverVersion: '10.11.19-MariaDB', tool: 'mariabackup', lockMs: 3, lock: 'backup-stage' },
      facts: { mode: 'physical', tables: [], databases: [], schema: [] },
    },
  };
}

describe('preparePhysicalTarget with a server running on the data dir', () => {
  it('refuses, even with force, when this restore did not start it, naming the server and the flag', async () => {
    // Act
    const preparing = preparePhysicalTarget(forced());

    // Assess
    await expect(preparing).rejects.toMatchObject({ code: 'SERVER_NOT_STARTED_BY_RESTORE' });
    await expect(preparing).rejects.toThrow(`the server of data dir ${datadir} is running (pid ${pid}) and this restore did not start it`);
    await expect(preparing).rejects.toThrow('"physical.stopRunningServer": true');
  });

  it('goes ahead when the target says physical.stopRunningServer', async () => {
    const prepared = await preparePhysicalTarget(forced({ stopRunningServer: true }));

    expect(prepared.details).toMatchObject({ replaces: true, runningPid: pid });
  });

  it('goes ahead when this very restore started it (a retry), not when another restore did', async () => {
    // Prepare
    const ctx = forced();
    await recordStartedServer(serverPaths(datadir).pidFile, 'another-restore', pid);
    const byAnother = await preparePhysicalTarget(ctx).then(() => new Error("prepared"), (e: Error) => e);
    await recordStartedServer(serverPaths(datadir).pidFile, ctx.restoreId, pid);

    // Act
    const prepared = await preparePhysicalTarget(ctx);

    // Assess
    expect(byAnother.message).toMatch(/did not start it \(restore another-restore did\)/);
    expect(prepared.details).toMatchObject({ runningPid: pid });
  });
});
