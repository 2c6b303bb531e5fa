/**
 * The ring as cassandra-driver sees it (system.local and system.peers, read by its control
 * connection): every node with its data center, rack, host id, version and tokens. A backup takes
 * every node of it, each on its host (config.ts says where), and records the token map.
 */
import type { Client } from 'cassandra-driver';
import { PermanentError } from '../../core/errors';
import { configNode, nodeName, type ClusterDescription, type ResolvedNode } from './config';
import { cqlClient } from './cql-client';
import { compareTokens } from './tokens';

/** One node of the ring. */
export interface RingNode {
  address: string;
  dataCenter: string;
  rack: string;
  hostId: string;
  releaseVersion: string;
  /** Its tokens, sorted as numbers: it is the primary replica of the ranges that end at them. */
  tokens: string[];
  up: boolean;
}

/** A client of the cluster `config` describes (not connected yet; `shutdown()` closes it). */
export function clusterClient(config: ClusterDescription, options: { readTimeoutMs?: number } = {}): Client {
  return cqlClient({
    contactPoints: config.contactPoints, port: config.nativePort, localDataCenter: config.localDataCenter,
    ...(config.username !== undefined && config.password !== undefined ? { credentials: { username: config.username, password: config.password } } : {}),
    readTimeoutMs: options.readTimeoutMs,
  });
}

/** Runs `work` with a connected client of the cluster, closed after. */
export async function withCluster<T>(config: ClusterDescription, work: (client: Client) => Promise<T>): Promise<T> {
  const client = clusterClient(config, { readTimeoutMs: 120_000 });
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

/** `ip:port` (or `[ip6]:port`) as the driver names a host → the address. */
function hostAddress(address: string): string {
  return address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** The major version of a Cassandra release, as a ring node reports it (`4.1.3` → 4; unknown → 0). */
export function majorVersion(release: string): number {
  return Number.parseInt(release, 10) || 0;
}

/** Nodes per data center of `ring`. */
export function nodesPerDataCenter(ring: readonly Pick<RingNode, 'dataCenter'>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of ring) counts.set(node.dataCenter, (counts.get(node.dataCenter) ?? 0) + 1);
  return counts;
}

/** Every node of the ring, by address. */
export function readRing(client: Client): RingNode[] {
  return client.hosts.values().map((host) => ({
    address: hostAddress(host.address),
    dataCenter: host.datacenter,
    rack: host.rack,
    hostId: String(host.hostId ?? ''),
    releaseVersion: host.cassandraVersion,
    tokens: [...(host.tokens ?? [])].sort(compareTokens),
    up: host.isUp(),
  })).sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
}

/** A ring node with where its host steps run (its config entry, defaults filled in). */
export interface PlannedNode extends RingNode {
  name: string;
  config: ResolvedNode;
}

/**
 * Every node of `ring`, each with its config entry.
 * @throws PermanentError `CASSANDRA_RING_MISMATCH` when the ring has a node the config does not list
 *   (its host is unknown) or the config lists one the ring does not have (a stale config);
 *   `CASSANDRA_NODE_DOWN` when a node is down (its snapshot could not be taken).
 */
export function planNodes(config: ClusterDescription, ring: readonly RingNode[]): PlannedNode[] {
  const unlisted = ring.filter((node) => !configNode(config, node.address)).map((n) => n.address);
  const absent = config.nodes.filter((node) => !ring.some((r) => r.address === node.address)).map((n) => n.address);
  if (unlisted.length > 0 || absent.length > 0) {
    const parts = [
      ...(unlisted.length ? [`the ring has ${unlisted.join(', ')}, which the config's nodes do not list (where would its steps run?)`] : []),
      ...(absent.length ? [`the config lists ${absent.join(', ')}, which the ring does not have`] : []),
    ];
    throw new PermanentError(`cassandra: the config's nodes are not the ring's: ${parts.join('; ')}`, { code: 'CASSANDRA_RING_MISMATCH', engine: 'cassandra' });
  }
  const down = ring.filter((node) => !node.up).map((n) => n.address);
  if (down.length > 0) {
    throw new PermanentError(`cassandra: node(s) ${down.join(', ')} are down: every node's snapshot is needed for a whole backup`, { code: 'CASSANDRA_NODE_DOWN', engine: 'cassandra' });
  }
  return ring.map((node) => ({ ...node, name: nodeName(node.address), config: configNode(config, node.address)! }));
}

/** The config entry of the backup node called `name`. */
export function nodeOfName(config: ClusterDescription, name: string): ResolvedNode {
  const node = config.nodes.find((n) => nodeName(n.address) === name);
  if (!node) throw new PermanentError(`cassandra: no node of the config is called ${name}`, { code: 'CASSANDRA_RING_MISMATCH', engine: 'cassandra' });
  return configNode(config, node.address)!;
}
