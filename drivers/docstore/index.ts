/** The Docstore driver plugin: documents partitioned over MySQL/MariaDB servers, with secondary indexes (README.md). */
import { DRIVER_API_VERSION, type DriverPlugin } from '../../core/driver/types';
import { mapMysqlError } from '../mysql/shared/errors';
import { DocstoreBackupDriver } from './backup-driver';
import { docstoreConfigSchema, docstoreRestoreTargetSchema, type DocstoreConfig, type DocstoreRestoreTarget } from './config';
import { artifactsNamedBy, ENGINE, docstoreConsistencySchema, docstoreFactsSchema } from './records';
import { DocstoreRestoreDriver } from './restore-driver';

export const plugin: DriverPlugin<DocstoreConfig, DocstoreRestoreTarget> = {
  manifest: {
    name: ENGINE,
    version: '1.0.0',
    apiVersion: DRIVER_API_VERSION,
    capabilities: ['backup', 'restore', 'consistency-point', 'multi-node'],
    description: 'Docstore-style document stores: P partitions over MySQL/MariaDB servers, each read in one view; restored onto any number of servers with document and cross-partition index proof',
    configSchema: docstoreConfigSchema,
    restoreTargetSchema: docstoreRestoreTargetSchema,
    recordSchemas: { consistency: docstoreConsistencySchema, facts: docstoreFactsSchema, artifactsNamed: artifactsNamedBy },
  },
  backup: new DocstoreBackupDriver(),
  restore: new DocstoreRestoreDriver(),
  mapError: mapMysqlError,
};

export default plugin;
