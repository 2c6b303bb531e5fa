/**
 * Test harness for Cassandra: real Cassandra 2.1 nodes (one, or a cluster on 127.0.0.1 …
 * 127.0.0.N) in temp dirs, from the distribution the global setup installed (it is installed here
 * too when missing, e.g. under another global setup), clients that are closed at teardown, and a
 * seeded keyspace (clustering keys, collections, a counter table) written through cassandra-driver.
 * `stopAllCassandra()` stops exactly the nodes the tests started or registered.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { types, type Client } from 'cassandra-driver';
import { cqlClient } from '../../drivers/cassandra/cql-client';
import { defaultCassandraPrefix, ensureCassandraDistribution } from '../../drivers/cassandra/distribution';
import { clusterPortCount, startLocalCassandraCluster, type LocalCassandraCluster, type LocalClusterOptions } from '../../drivers/cassandra/local-cluster';
import { stopCassandraNode } from '../../drivers/cassandra/node-process';
import { flush, nodetool } from '../../drivers/cassandra/nodetool';
import { onFreePorts } from './ports';
import { harnessTempDirs } from './test-run';

/** A running test cluster. */
export interface TestCassandra extends LocalCassandraCluster {
  /** Temp directory holding the nodes' directories. */
  dir: string;
  /** A client of the whole cluster (protocol v3), connected; closed by `stop` or {@link stopAllCassandra}. */
  connect(keyspace?: string): Promise<Client>;
}

const started: LocalCassandraCluster[] = [];
const clients: Client[] = [];
const nodeDirs = new Set<string>();
const tempDirs = harnessTempDirs('cassandra');

/** A fresh temp directory, removed by {@link stopAllCassandra}. */
export function cassandraTempDir(label: string): Promise<string> {
  return tempDirs.make(label);
}

export type TestCassandraOptions = Pick<LocalClusterOptions, 'count' | 'dataDirsPerNode' | 'vnodes' | 'heap'>;

/** Starts a cluster of `count` nodes (default 1) on free ports (on fresh ones when a port was taken meanwhile). */
export async function startTestCassandra(label: string, options: TestCassandraOptions = {}): Promise<TestCassandra> {
  const home = ensureCassandraDistribution(defaultCassandraPrefix(), (line) => process.stderr.write(`${line}\n`));
  const dir = await cassandraTempDir(label);
  const count = options.count ?? 1;
  const cluster = await onFreePorts(clusterPortCount(count), (ports, attempt) => startLocalCassandraCluster({
    ...options, dir: path.join(dir, `attempt-${attempt}`), home, ports, clusterName: `test-${label}`,
  }));
  started.push(cluster);
  const own: Client[] = [];
  const connect = async (keyspace?: string) => {
    const client = cqlClient({ contactPoints: cluster.contactPoints, port: cluster.nativePort, keyspace });
    clients.push(client);
    own.push(client);
    await client.connect();
    return client;
  };
  // Stopping one cluster closes its clients too: a client left open keeps jest's process alive.
  const stop = async () => {
    for (const client of own.splice(0)) await client.shutdown().catch(() => undefined);
    await cluster.stop();
  };
  return { ...cluster, dir, connect, stop };
}

/** Registers a node the code under test started (by its directory), so {@link stopAllCassandra} stops it. */
export function trackCassandraNode(dir: string): void {
  nodeDirs.add(dir);
}

/** Closes the clients, stops every node the harness started or was told about, and removes the temp dirs. */
export async function stopAllCassandra(): Promise<void> {
  for (const client of clients.splice(0)) await client.shutdown().catch(() => undefined);
  for (const cluster of started.splice(0)) await cluster.stop().catch(() => undefined);
  for (const dir of nodeDirs) await stopCassandraNode(dir).catch(() => undefined);
  nodeDirs.clear();
  await tempDirs.removeAll();
}

/** The tables {@link seedKeyspace} creates, with their CQL. */
export const SEED_TABLES = {
  items: 'CREATE TABLE items (id int PRIMARY KEY, name text, price decimal, tags set<text>)',
  events: 'CREATE TABLE events (device text, at timestamp, seq int, value double, attrs map<text, text>, PRIMARY KEY (device, at, seq)) WITH CLUSTERING ORDER BY (at DESC, seq ASC)',
  page_views: 'CREATE TABLE page_views (page text PRIMARY KEY, views counter)',
} as const;

export type SeedTable = keyof typeof SEED_TABLES;

export interface SeedOptions {
  keyspace: string;
  replicationFactor: number;
  /** Rows per table (default 200). */
  rows?: number;
  /** Tables to write to again in a later round: the rows get new keys from `offset` on. */
  offset?: number;
}

/** The rows of round `offset` of `table` (statement and parameters). */
function seedRows(keyspace: string, table: SeedTable, offset: number, rows: number): { query: string; params: unknown[][] } {
  const ids = Array.from({ length: rows }, (_, i) => offset + i);
  switch (table) {
    case 'items':
      return {
        query: `INSERT INTO ${keyspace}.items (id, name, price, tags) VALUES (?, ?, ?, ?)`,
        params: ids.map((id) => [id, `item ${id}`, types.BigDecimal.fromString(`${id}.${id % 100}`), [`t${id % 3}`, `t${id % 5}`]]),
      };
    case 'events':
      return {
        query: `INSERT INTO ${keyspace}.events (device, at, seq, value, attrs) VALUES (?, ?, ?, ?, ?)`,
        params: ids.map((id) => [`device-${id % 17}`, new Date(1_700_000_000_000 + id * 1000), id, id / 7, { source: `s${id % 4}` }]),
      };
    case 'page_views':
      return { query: `UPDATE ${keyspace}.page_views SET views = views + ? WHERE page = ?`, params: ids.map((id) => [types.Long.fromNumber(id % 9 + 1), `/page/${id % 50}`]) };
  }
}

/** Creates `keyspace` (SimpleStrategy) with {@link SEED_TABLES} when missing. */
export async function createSeedKeyspace(client: Client, keyspace: string, replicationFactor: number): Promise<void> {
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}`);
  for (const cql of Object.values(SEED_TABLES)) await client.execute(cql.replace('CREATE TABLE ', `CREATE TABLE IF NOT EXISTS ${keyspace}.`));
}

/**
 * Writes `rows` rows into each seed table at QUORUM (creating the keyspace first), from key
 * `offset` on.
 */
export async function seedKeyspace(client: Client, options: SeedOptions): Promise<void> {
  const { keyspace, rows = 200, offset = 0 } = options;
  await createSeedKeyspace(client, keyspace, options.replicationFactor);
  for (const table of Object.keys(SEED_TABLES) as SeedTable[]) {
    const { query, params } = seedRows(keyspace, table, offset, rows);
    for (let i = 0; i < params.length; i += 16) {
      await Promise.all(params.slice(i, i + 16).map((values) => client.execute(query, values, { prepare: true, consistency: types.consistencies.quorum })));
    }
  }
}

/** The live SSTable data files of `keyspace` in `dataDir`. */
export async function liveDataFiles(dataDir: string, keyspace: string): Promise<string[]> {
  const tables = await readdir(path.join(dataDir, keyspace)).catch(() => [] as string[]);
  const files = await Promise.all(tables.map(async (table) => {
    const dir = path.join(dataDir, keyspace, table);
    return (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('-Data.db')).map((f) => path.join(dir, f));
  }));
  return files.flat();
}

/**
 * Writes and flushes `keyspace` until every data dir of every node holds SSTables of it (2.1 puts
 * a flush in the data dir with the fewest flushes in progress, so only concurrent flushes spread
 * over JBOD, compactions where there is room); returns how many rounds of `rows` more rows it
 * wrote, the keyspace's automatic compaction then off, so its SSTables stay where they were seen.
 */
export async function spreadOverDataDirs(cassandra: TestCassandra, client: Client, options: SeedOptions): Promise<number> {
  const dataDirs = cassandra.nodes.flatMap((node) => node.dataDirs);
  const targets = cassandra.nodes.map((node) => cassandra.nodetoolTarget(node));
  const rows = options.rows ?? 200;
  const spread = async () => (await Promise.all(dataDirs.map(async (dir) => (await liveDataFiles(dir, options.keyspace)).length))).every((count) => count > 0);
  const onEveryNode = (args: string[]) => Promise.all(targets.map((target) => nodetool(target, args)));
  for (let round = 1; round <= 15; round += 1) {
    await Promise.all(targets.map((target) => flush(target, options.keyspace)));
    if (await spread()) {
      // Compactions (which spread SSTables into other dirs) stop here, and with them any that could
      // merge a dir's SSTables away after this check (a flaky CI run saw one do so); then checked again.
      await onEveryNode(['disableautocompaction', options.keyspace]);
      await onEveryNode(['stop', 'COMPACTION']);
      if (await spread()) return round - 1;
      await onEveryNode(['enableautocompaction', options.keyspace]);
    }
    await seedKeyspace(client, { ...options, rows: 50, offset: (options.offset ?? 0) + rows + 50 * (round - 1) });
  }
  throw new Error(`after 15 rounds of writes and flushes some data dirs of ${options.keyspace} still hold no SSTable`);
}

/** A cell as plain JSON, whatever the driver's type for it (Long, BigDecimal, Uuid, Set, Map, Date). */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Set) return [...value].map(plain).sort();
  if (value instanceof Map) return [...value].map(([k, v]) => [plain(k), plain(v)]).sort();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'object') {
    const text = String(value);
    return text === '[object Object]' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]).sort()) : text;
  }
  return value;
}

/**
 * Every row of every table of `keyspace`, read through the driver at `consistency` (ALL by
 * default) and sorted: the independent read a restore is compared with (not the driver's digest).
 */
export async function readKeyspace(client: Client, keyspace: string, consistency: number = types.consistencies.all): Promise<Record<string, string[]>> {
  const tables = (await client.execute('SELECT columnfamily_name FROM system.schema_columnfamilies WHERE keyspace_name = ?', [keyspace])).rows.map((r) => r.columnfamily_name as string).sort();
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows: string[] = [];
    const options = { consistency, fetchSize: 500, autoPage: true, prepare: true };
    // The driver's ResultStream is a Readable (typed as an EventEmitter).
    for await (const row of client.stream(`SELECT * FROM "${keyspace}"."${table}"`, [], options) as unknown as AsyncIterable<types.Row>) {
      rows.push(JSON.stringify(Object.fromEntries(Object.keys(row).sort().map((k) => [k, plain((row as Record<string, unknown>)[k])]))));
    }
    out[table] = rows.sort();
  }
  return out;
}
