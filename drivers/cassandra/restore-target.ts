/**
 * Where a Cassandra backup is restored to: a running cluster, described as an instance is (its
 * contact points, and each node's host, JMX port and data directories), of the backup's topology
 * or of another one (restore-plan.ts says how each is loaded).
 */
import { z } from 'zod';
import { clusterChecks, clusterFields, keyspaceName } from './config';

export const cassandraRestoreTargetSchema = clusterChecks(z.object({
  ...clusterFields,
  /** Keyspaces of the backup to restore (default all it holds but `system_auth`). */
  keyspaces: z.array(keyspaceName).min(1).optional(),
  /** Restore `system_auth` too (users, roles, permissions), when the backup holds it. */
  systemAuth: z.boolean().default(false),
  /**
   * How the SSTables go in: `refresh` (the target has the backup's tokens, node for node: files
   * placed and `nodetool refresh`ed), `sstableloader` (streamed into any topology), or `auto`
   * (refresh when the rings match, sstableloader otherwise).
   */
  method: z.enum(['auto', 'refresh', 'sstableloader']).default('auto'),
  /** The nodes' inter-node port, which sstableloader streams to (default 7000). */
  storagePort: z.number().int().min(1).max(65_535).default(7000),
  /** The nodes' Thrift port (`rpc_port`, default 9160): 2.x's sstableloader reads the ring through it (3.x and later use the native port). */
  thriftPort: z.number().int().min(1).max(65_535).default(9160),
}).strict());

export type CassandraRestoreTarget = z.infer<typeof cassandraRestoreTargetSchema>;
