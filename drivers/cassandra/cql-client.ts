/**
 * CQL clients (cassandra-driver) for Cassandra 2.1: native protocol v3 at most (2.1 speaks v1–v3;
 * the driver would otherwise try newer versions first), the data center of SimpleSnitch, and
 * short timeouts where a caller wants one quick answer.
 *
 * Maps are decoded as `Map` (`encoding: { map: Map }`): the driver's default, a plain object,
 * names each entry by `String(key)`, which loses a blob key's bytes, a timestamp key's
 * milliseconds (in the local time zone), a tuple's or a frozen collection's structure, and drops
 * a `__proto__` key; a `Map` keeps every key as decoded, so any map's digest is exact
 * (canonical-row.ts). Sets stay arrays: in the server's order, exact either way. Plain objects
 * are still accepted as map parameters.
 */
import { Client, policies } from 'cassandra-driver';

/** The data center SimpleSnitch puts every node in. */
export const SIMPLE_SNITCH_DC = 'datacenter1';

/** The highest native protocol version Cassandra 2.1 speaks. */
export const CASSANDRA_21_PROTOCOL = 3;

export interface CqlClientOptions {
  /** Addresses of nodes to start from (the driver discovers the others unless `onlyThese`). */
  contactPoints: readonly string[];
  /** Native protocol port, the same on every node. */
  port: number;
  /** Talk to the contact points only, never to nodes the driver discovers (a probe of one node). */
  onlyThese?: boolean;
  /** Data center of the nodes to use (default SimpleSnitch's `datacenter1`). */
  localDataCenter?: string;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  keyspace?: string;
  /** Password authentication (PasswordAuthenticator). */
  credentials?: { username: string; password: string };
}

/** A client, not yet connected (`connect()` or the first query connects it; `shutdown()` closes it). */
export function cqlClient(options: CqlClientOptions): Client {
  const { contactPoints, port } = options;
  const loadBalancing = options.onlyThese
    ? new policies.loadBalancing.AllowListPolicy(new policies.loadBalancing.RoundRobinPolicy(), contactPoints.map((host) => `${host}:${port}`))
    : new policies.loadBalancing.DCAwareRoundRobinPolicy(options.localDataCenter ?? SIMPLE_SNITCH_DC);
  return new Client({
    contactPoints: [...contactPoints],
    localDataCenter: options.localDataCenter ?? SIMPLE_SNITCH_DC,
    keyspace: options.keyspace,
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    protocolOptions: { port, maxVersion: CASSANDRA_21_PROTOCOL },
    policies: { loadBalancing },
    socketOptions: { connectTimeout: options.connectTimeoutMs ?? 5_000, readTimeout: options.readTimeoutMs ?? 30_000 },
    encoding: { map: Map },
    // A probe needs no schema; a full client reads it when asked.
    isMetadataSyncEnabled: !options.onlyThese,
  });
}
