/**
 * The etcd driver plugin: Maintenance-API snapshots with their sha256 trailer verified, the
 * snapshot's revision recorded with a kv digest, and restores into a new single-member cluster
 * or a new cluster of several members on one host, proven equal to the backup. See README.md in this folder.
 */
import { DRIVER_API_VERSION, type DriverPlugin } from '../../core/driver/types';
import { artifactsNamedBy, EtcdBackupDriver } from './backup-driver';
import { etcdConfigSchema, type EtcdConfig } from './config';
import { mapEtcdError } from './errors';
import { etcdConsistencySchema, etcdFactsSchema } from './records';
import { EtcdRestoreDriver } from './restore-driver';
import { etcdRestoreTargetSchema, type EtcdRestoreTarget } from './restore-target';

/** The built-in etcd driver. */
export const plugin: DriverPlugin<EtcdConfig, EtcdRestoreTarget> = {
  manifest: {
    name: 'etcd',
    version: '1.0.0',
    apiVersion: DRIVER_API_VERSION,
    capabilities: ['backup', 'restore', 'consistency-point'],
    description: 'etcd 3.x: Maintenance snapshot (sha256 trailer verified) at a recorded revision; restore with etcdutl/etcdctl snapshot restore into a new cluster of one or more members',
    configSchema: etcdConfigSchema,
    restoreTargetSchema: etcdRestoreTargetSchema,
    recordSchemas: { consistency: etcdConsistencySchema, facts: etcdFactsSchema, artifactsNamed: artifactsNamedBy },
  },
  backup: new EtcdBackupDriver(),
  restore: new EtcdRestoreDriver(),
  mapError: mapEtcdError,
};

export default plugin;

export { EtcdBackupDriver, SNAPSHOT_FILE, snapshotRevision } from './backup-driver';
export { EtcdRestoreDriver } from './restore-driver';
export { etcdConfigSchema, type EtcdConfig } from './config';
export { etcdRestoreTargetSchema, clusterTokenFor, targetMembers, type EtcdRestoreTarget, type TargetMember } from './restore-target';
export { mapEtcdError } from './errors';
export { computeKvDigest, type KvDigest } from './kv-digest';
export { SnapshotTrailerCheck, verifySnapshotFile } from './snapshot-trailer';
export { detectEtcdTool, snapshotRestoreArgv, snapshotStatusArgv, type EtcdTool } from './etcd-tools';
export { startLocalEtcd, startMember, stopMember, type LocalEtcd, type RunningMember } from './member';
