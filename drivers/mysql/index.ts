/** The MySQL/MariaDB driver plugin. */
import { DRIVER_API_VERSION, type DriverPlugin } from '../../core/driver/types';
import { MysqlBackupDriver } from './backup-driver';
import { MysqlRestoreDriver } from './restore-driver';
import { mysqlConfigSchema, mysqlRestoreTargetSchema, type MysqlConfig, type MysqlRestoreTarget } from './config';
import { mapMysqlError } from './shared/errors';
import { artifactsNamedBy, ENGINE, mysqlConsistencySchema, mysqlFactsSchema } from './shared/layout';

export const plugin: DriverPlugin<MysqlConfig, MysqlRestoreTarget> = {
  manifest: {
    name: ENGINE,
    version: '1.0.0',
    apiVersion: DRIVER_API_VERSION,
    capabilities: ['backup', 'restore', 'consistency-point', 'point-in-time'],
    description: 'MySQL 5.7/8.0/8.4 and MariaDB 10.x/11.x: consistent logical dumps and mariabackup/xtrabackup physical copies',
    configSchema: mysqlConfigSchema,
    restoreTargetSchema: mysqlRestoreTargetSchema,
    recordSchemas: { consistency: mysqlConsistencySchema, facts: mysqlFactsSchema, artifactsNamed: artifactsNamedBy },
  },
  backup: new MysqlBackupDriver(),
  restore: new MysqlRestoreDriver(),
  mapError: mapMysqlError,
};

export default plugin;
