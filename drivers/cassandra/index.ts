/**
 * The Cassandra driver plugin: token-aware snapshots of every node of the ring (`nodetool
 * snapshot` through the host runner, the same tag everywhere), SSTables in a content-addressed
 * pool shared between the instance's backups (a second backup of unchanged data uploads almost
 * nothing), and restores into a cluster of the same topology (in place) or of any other
 * (sstableloader), proven by counts and digests over every backed-up node's token ranges. See
 * README.md in this folder.
 */
import { DRIVER_API_VERSION, type DriverPlugin } from '../../core/driver/types';
import { artifactsNamedBy, CassandraBackupDriver } from './backup-driver';
import { cassandraConfigSchema, type CassandraConfig } from './config';
import { mapCassandraError } from './errors';
import { cassandraConsistencySchema, cassandraFactsSchema } from './records';
import { CassandraRestoreDriver } from './restore-driver';
import { cassandraRestoreTargetSchema, type CassandraRestoreTarget } from './restore-target';

/** The built-in Cassandra driver. */
export const plugin: DriverPlugin<CassandraConfig, CassandraRestoreTarget> = {
  manifest: {
    name: 'cassandra',
    version: '1.0.0',
    apiVersion: DRIVER_API_VERSION,
    capabilities: ['backup', 'restore', 'consistency-point', 'multi-node'],
    description: 'Cassandra 2.1+: nodetool snapshot on every node (same tag), SSTables in a content-addressed pool; restore in place (nodetool refresh) into the same tokens or by sstableloader into any topology, proven by row counts and digests',
    configSchema: cassandraConfigSchema,
    restoreTargetSchema: cassandraRestoreTargetSchema,
    recordSchemas: { consistency: cassandraConsistencySchema, facts: cassandraFactsSchema, artifactsNamed: artifactsNamedBy },
  },
  backup: new CassandraBackupDriver(),
  restore: new CassandraRestoreDriver(),
  mapError: mapCassandraError,
};

export default plugin;
