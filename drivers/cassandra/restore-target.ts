/**
 * Where a Cassandra backup is restored to: a running cluster, described as an instance is (its
 * contact points, and each node's host, JMX port and data directories). Today the target must have
 * the backup's topology (the same tokens, node for node): each node loads the SSTables of the
 * source node that owned the same tokens.
 */
import { z } from 'zod';
import { clusterChecks, clusterFields, keyspaceName } from './config';

export const cassandraRestoreTargetSchema = clusterChecks(z.object({
  ...clusterFields,
  /** Keyspaces of the backup to restore (default all it holds but `system_auth`). */
  keyspaces: z.array(keyspaceName).min(1).optional(),
  /** Restore `system_auth` too (users, roles, permissions), when the backup holds it. */
  systemAuth: z.boolean().default(false),
}).strict());

export type CassandraRestoreTarget = z.infer<typeof cassandraRestoreTargetSchema>;
