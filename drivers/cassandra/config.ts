/**
 * Configuration schema of the Cassandra driver: how to reach a cluster (an "instance") and its
 * nodes' hosts. The ring itself (nodes, tokens, data centers) is discovered through
 * cassandra-driver at backup time (ring.ts); the config says, for each node, what CQL cannot:
 * where its host steps run (SSM instance id), its JMX port for nodetool and its data directories.
 *
 * Secret references (`{ "$secret": "ssm:/x" }`) are resolved before the driver sees a config.
 */
import { z } from 'zod';
import { absolutePath } from '../../core/config/path-field';

/** A host name or an IPv4 address, as the ring lists nodes. */
export const nodeAddress = z.string().regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or an IP address');
const port = z.number().int().min(1).max(65_535);

/** Where Cassandra keeps its data on a stock install (`data_file_directories`). */
export const DEFAULT_DATA_DIRS = ['/var/lib/cassandra/data'];
/** Cassandra's default JMX port (nodetool's). */
export const DEFAULT_JMX_PORT = 7199;
/** Cassandra's default native (CQL) port. */
export const DEFAULT_NATIVE_PORT = 9042;

/** One node of the cluster: its address as the ring lists it, and how its host is reached. */
const clusterNode = z.object({
  /** Its broadcast address, as `nodetool status` and the ring list it, e.g. `10.0.0.5`. */
  address: nodeAddress,
  /** Where its host steps run: its SSM managed instance id. Absent: where the step runs. */
  host: z.string().min(1).optional(),
  /** nodetool's port on this node (default: the config's `jmxPort`). */
  jmxPort: port.optional(),
  /** Its `data_file_directories`, several for JBOD (default: the config's `dataDirs`). */
  dataDirs: z.array(absolutePath()).min(1).optional(),
}).strict();

/** How to reach a cluster and its nodes' hosts: shared by the instance config and a restore target. */
export const clusterFields = {
  /** Nodes the client starts from (it discovers the others). */
  contactPoints: z.array(nodeAddress).min(1, 'at least one contact point is required'),
  nativePort: port.default(DEFAULT_NATIVE_PORT),
  /** The data center the client reads from (default SimpleSnitch's `datacenter1`). */
  localDataCenter: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  /** Normally a `$secret` reference in the stored config. */
  password: z.string().optional(),
  /** Every node of the ring: a ring with a node not listed here is refused (where would its steps run?). */
  nodes: z.array(clusterNode).min(1, 'at least one node is required'),
  /** nodetool's port where a node does not say (default 7199). */
  jmxPort: port.default(DEFAULT_JMX_PORT),
  /** `data_file_directories` where a node does not say (default `/var/lib/cassandra/data`). */
  dataDirs: z.array(absolutePath()).min(1).default(DEFAULT_DATA_DIRS),
  /** The Cassandra distribution whose nodetool the host steps run (default: the one this host installed, distribution.ts). */
  cassandraHome: absolutePath().optional(),
};

/** A keyspace name. */
export const keyspaceName = z.string().regex(/^[A-Za-z0-9_]{1,48}$/, 'must be a keyspace name');

/** The checks every cluster description gets. */
export function clusterChecks<T extends z.ZodType<{ username?: string; password?: string; nodes: Array<{ address: string }> }>>(schema: T) {
  return schema
    .refine((c) => (c.username === undefined) === (c.password === undefined), { message: 'username and password must be given together', path: ['password'] })
    .refine((c) => new Set(c.nodes.map((n) => n.address)).size === c.nodes.length, { message: 'node addresses must be unique', path: ['nodes'] });
}

/** Connection config of one Cassandra cluster. Unknown keys are rejected. */
export const cassandraConfigSchema = clusterChecks(z.object({
  ...clusterFields,
  /**
   * Keyspaces to back up (default every keyspace but the system ones and `dbbackup`, which holds
   * the marks of unfinished restores). `system_auth` is backed up only when listed, and restored
   * only when the restore asks for it.
   */
  keyspaces: z.array(keyspaceName).min(1).optional(),
  /**
   * Tables whose live SSTables on a node are at most this many bytes get a digest of every row the
   * node is the primary replica of at backup time; larger ones a deterministic sample of token
   * ranges (default 64 MiB).
   */
  fullDigestMaxBytes: z.number().int().nonnegative().default(64 * 1024 * 1024),
}).strict());

export type CassandraConfig = z.infer<typeof cassandraConfigSchema>;
export type CassandraConfigNode = z.infer<typeof clusterNode>;
/** What the instance config and a restore target share. */
export type ClusterDescription = Pick<CassandraConfig, 'contactPoints' | 'nativePort' | 'localDataCenter' | 'username' | 'password' | 'nodes' | 'jmxPort' | 'dataDirs' | 'cassandraHome'>;

/** A node of the config with its defaults filled in. */
export interface ResolvedNode {
  address: string;
  host?: string;
  jmxPort: number;
  dataDirs: string[];
}

/** `config`'s entry for `address` with the defaults filled in, or undefined when it lists no such node. */
export function configNode(config: ClusterDescription, address: string): ResolvedNode | undefined {
  const node = config.nodes.find((n) => n.address === address);
  if (!node) return undefined;
  return { address, ...(node.host ? { host: node.host } : {}), jmxPort: node.jmxPort ?? config.jmxPort, dataDirs: [...(node.dataDirs ?? config.dataDirs)] };
}

/**
 * What a backup or restore connects to (its circuit breaker's endpoint): the contact points and
 * each node's nodetool (JMX) port, sorted — so failures through a wrong JMX port do not hold back
 * the corrected config.
 */
export function cassandraEndpoint(config: Pick<ClusterDescription, 'contactPoints' | 'nativePort' | 'nodes' | 'jmxPort'>): string {
  const cql = [...config.contactPoints].sort().map((host) => `${host}:${config.nativePort}`);
  const jmx = config.nodes.map((n) => `${n.address}:${n.jmxPort ?? config.jmxPort}`).sort();
  return `${cql.join(',')} jmx ${jmx.join(',')}`;
}

/** The name of the backup node (and spool, and store folder) of the ring node at `address`. */
export function nodeName(address: string): string {
  return `node-${address.replace(/[^A-Za-z0-9.-]/g, '_')}`;
}
