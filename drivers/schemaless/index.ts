/** The Schemaless driver plugin: sharded append-only cells on MySQL/MariaDB servers (README.md). */
import { DRIVER_API_VERSION, type DriverPlugin } from '../../core/driver/types';
import { mapMysqlError } from '../mysql/shared/errors';
import { SchemalessBackupDriver } from './backup-driver';
import { schemalessConfigSchema, schemalessRestoreTargetSchema, type SchemalessConfig, type SchemalessRestoreTarget } from './config';
import { artifactsNamedBy, ENGINE, schemalessConsistencySchema, schemalessFactsSchema } from './records';
import { SchemalessRestoreDriver } from './restore-driver';

export const plugin: DriverPlugin<SchemalessConfig, SchemalessRestoreTarget> = {
  manifest: {
    name: ENGINE,
    version: '1.0.0',
    apiVersion: DRIVER_API_VERSION,
    capabilities: ['backup', 'restore', 'consistency-point', 'multi-node', 'incremental'],
    description: 'Schemaless-style cell stores: N shards over M MySQL/MariaDB servers, full and incremental (by added_id watermark), restored onto any number of servers with cell and index proof',
    configSchema: schemalessConfigSchema,
    restoreTargetSchema: schemalessRestoreTargetSchema,
    recordSchemas: { consistency: schemalessConsistencySchema, facts: schemalessFactsSchema, artifactsNamed: artifactsNamedBy },
  },
  backup: new SchemalessBackupDriver(),
  restore: new SchemalessRestoreDriver(),
  mapError: mapMysqlError,
};

export default plugin;
