/**
 * The ZooKeeper driver plugin: host-local backups (the newest valid snapshot and the transaction
 * logs after it, from the member with the highest zxid, consistent at the last complete
 * transaction copied) or logical ones (a tree walk through the client), restored onto a whole
 * ensemble or into a running one, and proven by the tree's node count and digest on every member.
 * See README.md in this folder.
 */
import { DRIVER_API_VERSION, type DriverPlugin } from '../../core/driver/types';
import { artifactsNamedBy, ZooKeeperBackupDriver } from './backup-driver';
import { zookeeperConfigSchema, zookeeperRestoreTargetSchema, type ZooKeeperConfig, type ZooKeeperRestoreTarget } from './config';
import { mapZooKeeperError } from './errors';
import { zookeeperConsistencySchema, zookeeperFactsSchema } from './records';
import { ZooKeeperRestoreDriver } from './restore-driver';

export const plugin: DriverPlugin<ZooKeeperConfig, ZooKeeperRestoreTarget> = {
  manifest: {
    name: 'zookeeper',
    version: '1.0.0',
    apiVersion: DRIVER_API_VERSION,
    capabilities: ['backup', 'restore', 'consistency-point', 'multi-node'],
    description: 'ZooKeeper 3.5+: host-local snapshot + txn logs (consistent at the last complete txn) or a logical tree walk; restored onto a whole ensemble, proven by a tree digest on every member',
    configSchema: zookeeperConfigSchema,
    restoreTargetSchema: zookeeperRestoreTargetSchema,
    recordSchemas: { consistency: zookeeperConsistencySchema, facts: zookeeperFactsSchema, artifactsNamed: artifactsNamedBy },
  },
  backup: new ZooKeeperBackupDriver(),
  restore: new ZooKeeperRestoreDriver(),
  mapError: mapZooKeeperError,
};

export default plugin;
