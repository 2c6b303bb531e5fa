/**
 * What a physical restore refuses before touching anything: a target without a data dir, database
 * renames (the whole server is copied), point-in-time replay without starting the server, and a
 * host or socket the restored server will not listen on.
 */
import { silentLogger } from '../../../core/logger';
import type { RestoreContext } from '../../../core/driver/types';
import { mysqlRestoreTargetSchema, type MysqlRestoreTarget } from '../../../drivers/mysql/config';
import { preparePhysicalTarget } from '../../../drivers/mysql/physical-restore';

function ctx(target: Record<string, unknown>): RestoreContext<MysqlRestoreTarget> {
  return {
    backupId: '20261121T120000Z-abcdef',
    instance: 'db',
    logger: silentLogger,
    spoolDir: '/nonexistent/spool',
    force: false,
    target: mysqlRestoreTargetSchema.parse({ user: 'root', ...target }),
    backup: {
      backupId: '20261121T120000Z-abcdef', engine: 'mysql', instance: 'db', artifacts: [],
      consistency: { flavor: 'mariadb', serverVersion: '10.11.19-MariaDB', tool: 'mariabackup' },
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
