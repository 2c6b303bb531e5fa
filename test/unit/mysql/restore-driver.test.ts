import type { RestoreContext } from '../../../core/driver/types';
import { silentLogger } from '../../../core/logger';
import { mysqlRestoreTargetSchema, type MysqlRestoreTarget } from '../../../drivers/mysql/config';
import { MysqlRestoreDriver } from '../../../drivers/mysql/restore-driver';

const context = (flavor: string, mode: string, target: Record<string, unknown>): RestoreContext<MysqlRestoreTarget> => ({
  backupId: 'b', instance: 'i', logger: silentLogger, spoolDir: '/nonexistent', force: true, restoreId: 'r', node: { name: 'default' },
  backup: { backupId: 'b', engine: 'mysql', instance: 'i', consistency: { flavor, serverVersion: '8.0.36', lockMs: 3, lock: 'none' }, facts: { mode, tables: [], databases: [], schema: [] }, artifacts: [] },
  target: mysqlRestoreTargetSchema.parse({ user: 'root', port: 1, ...target }),
});

describe('MysqlRestoreDriver.prepareTarget', () => {
  it.each([
    ['a physical restore', 'physical', { physical: { datadir: '/nonexistent/data' } }],
    ['a point-in-time replay', 'logical', { pointInTime: { until: '2026-11-21T10:00:00Z' } }],
  ])('refuses %s of a MySQL backup before touching the target', async (what, mode, target) => {
    // Act
    const preparing = new MysqlRestoreDriver().prepareTarget(context('mysql', mode, target));

    // Assess
    await expect(preparing).rejects.toMatchObject({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE', message: expect.stringContaining(what) });
  });
});
