/**
 * The artifacts the records of etcd, ZooKeeper, Cassandra, Schemaless and Docstore backups name
 * (`recordSchemas.artifactsNamed`: MySQL's are in test/unit/mysql/artifacts-named.test.ts), and
 * what `unlistedArtifacts` (which `verify`, `restore latest` and a restore by id ask) makes of a
 * manifest that lost one: each named artifact is found in the manifest (under its node's name in a
 * manifest of several nodes), or reported missing.
 */
import { unlistedArtifacts } from '../../../core/catalog/backup-record';
import type { BackupManifest } from '../../../core/catalog/manifest';
import { DriverRegistry } from '../../../core/driver/registry';
import { builtinPlugins } from '../../../drivers';
import { artifactsNamedBy as cassandraNamed, SCHEMA_ARTIFACT } from '../../../drivers/cassandra/backup-driver';
import type { CassandraFacts } from '../../../drivers/cassandra/records';
import { artifactsNamedBy as docstoreNamed, type DocstoreFacts } from '../../../drivers/docstore/records';
import { artifactsNamedBy as etcdNamed, SNAPSHOT_FILE } from '../../../drivers/etcd/backup-driver';
import type { EtcdFacts } from '../../../drivers/etcd/records';
import { chunkArtifact } from '../../../drivers/mysql/shared/layout';
import { artifactsNamedBy as schemalessNamed, type SchemalessFacts, type ShardFacts } from '../../../drivers/schemaless/records';
import { artifactsNamedBy as zookeeperNamed } from '../../../drivers/zookeeper/backup-driver';
import { TREE_ARTIFACT } from '../../../drivers/zookeeper/logical-backup';
import type { ZooKeeperConsistency, ZooKeeperFacts } from '../../../drivers/zookeeper/records';

/** One node of a backup: its record, and the artifacts its snapshot wrote (under its own names). */
interface TakenNode { consistency: object; facts: object; artifacts: string[] }

/** The manifest core builds of `nodes` (manifest-builder.ts): one node's record as it is, several under `nodes.<name>`, their artifacts prefixed with the node's name. */
function manifestOf(engine: string, nodes: Record<string, TakenNode>): BackupManifest {
  const entries = Object.entries(nodes);
  const single = entries.length === 1;
  const perNode = (part: 'consistency' | 'facts') => (single ? entries[0][1][part] : { nodes: Object.fromEntries(entries.map(([name, node]) => [name, node[part]])) });
  const names = entries.flatMap(([name, node]) => node.artifacts.map((artifact) => (single ? artifact : `${name}/${artifact}`)));
  return {
    formatVersion: 1, backupId: '20260101T000000Z-aaaa', engine, instance: 'main', driver: { name: engine, version: '1.0.0' },
    startedAt: '2026-01-01T00:00:00.000Z', completedAt: '2026-01-01T00:05:00.000Z',
    consistency: perNode('consistency'), facts: perNode('facts'),
    artifacts: names.map((name) => ({ name, key: `backups/${engine}/main/b/data/${name}`, size: 1, sha256: '0'.repeat(64) })),
    bytes: names.length, validation: { ok: true, checks: [] },
  } as BackupManifest;
}

/** `manifest` with the entry of artifact `name` lost (a damaged or edited manifest). */
const losing = (manifest: BackupManifest, name: string): BackupManifest => ({ ...manifest, artifacts: manifest.artifacts.filter((a) => a.name !== name) });

const registry = new DriverRegistry();
for (const plugin of builtinPlugins()) registry.register(plugin);

const sha = (c: string) => c.repeat(64);

describe('the artifacts an etcd backup\'s record names', () => {
  const consistency = { revision: 812, clusterId: 'cdf818194e3a8c32', memberId: '8e9e05c52164694d', etcdVersion: '3.5.17', endpoint: 'http://10.0.0.5:2379', raftTerm: 4 };
  const facts: EtcdFacts = { keyCount: 120, kvDigest: sha('a'), snapshotRevision: 812, snapshotHash: 3_456_789, snapshotTotalKey: 131, snapshotTotalSize: 65_536, trailerSha256: sha('b') };

  it('are the one snapshot every etcd backup writes (its facts name no artifact), none for facts that do not parse', () => {
    // Act
    const named = etcdNamed({ facts });

    // Assess
    expect(named).toEqual([SNAPSHOT_FILE]);
    expect(SNAPSHOT_FILE).toBe('snapshot.db');
    expect(etcdNamed({ facts: { revision: 7 } })).toEqual([]); // checking the record says what is wrong with it
  });

  it('are found in a complete manifest; a manifest that lost its snapshot is reported', () => {
    // Prepare
    const complete = manifestOf('etcd', { default: { consistency, facts, artifacts: [SNAPSHOT_FILE] } });

    // Act
    const found = unlistedArtifacts(registry, complete);
    const lost = unlistedArtifacts(registry, losing(complete, SNAPSHOT_FILE));

    // Assess
    expect(found).toEqual([]);
    expect(lost).toEqual(['snapshot.db']);
  });
});

describe('the artifacts a ZooKeeper backup\'s record names', () => {
  const source = { member: '10.0.0.7:2181', serverVersion: '3.8.4', role: 'follower' };
  const hostLocal: ZooKeeperConsistency = { mode: 'host-local', zxid: '0x20000002a', snapshotZxid: '0x200000010', epoch: 2, epochs: [1, 2], ...source };
  const files: ZooKeeperFacts = {
    nodeCount: 42, treeDigest: sha('c'), snapshotFile: 'snapshot/snapshot.200000010',
    logFiles: ['txnlog/log.100000001', 'txnlog/log.200000001'], snapshotSource: 'data-dir', replayedTxns: 26,
  };
  const logical: ZooKeeperConsistency = { mode: 'logical', zxid: '0x20000002a', ...source };
  const tree: ZooKeeperFacts = { nodeCount: 42, treeDigest: sha('c') };

  it('are a host-local backup\'s snapshot and logs as its facts record them, and a logical backup\'s one tree artifact (its facts name none)', () => {
    // Act
    const hostLocalNamed = zookeeperNamed({ consistency: hostLocal, facts: files });
    const logicalNamed = zookeeperNamed({ consistency: logical, facts: tree });

    // Assess
    expect(hostLocalNamed).toEqual(['snapshot/snapshot.200000010', 'txnlog/log.100000001', 'txnlog/log.200000001']);
    expect(logicalNamed).toEqual([TREE_ARTIFACT]);
    expect(TREE_ARTIFACT).toBe('tree.ndjson');
    expect(zookeeperNamed({ consistency: { mode: 'nonsense' }, facts: files })).toEqual([]); // checking the record says what is wrong with it
  });

  it('are found in a complete manifest; a manifest that lost a log, or the tree, is reported', () => {
    // Prepare
    const hostLocalBackup = manifestOf('zookeeper', { 'member-1': { consistency: hostLocal, facts: files, artifacts: ['snapshot/snapshot.200000010', 'txnlog/log.100000001', 'txnlog/log.200000001'] } });
    const logicalBackup = manifestOf('zookeeper', { tree: { consistency: logical, facts: tree, artifacts: [TREE_ARTIFACT] } });

    // Act
    const found = [...unlistedArtifacts(registry, hostLocalBackup), ...unlistedArtifacts(registry, logicalBackup)];
    const lostLog = unlistedArtifacts(registry, losing(hostLocalBackup, 'txnlog/log.100000001'));
    const lostTree = unlistedArtifacts(registry, losing(logicalBackup, TREE_ARTIFACT));

    // Assess
    expect(found).toEqual([]);
    expect(lostLog).toEqual(['txnlog/log.100000001']);
    expect(lostTree).toEqual(['tree.ndjson']);
  });
});

describe('the artifacts a Cassandra backup\'s record names', () => {
  const node = (i: number, token: string): TakenNode => {
    const facts: CassandraFacts = {
      schemaArtifact: SCHEMA_ARTIFACT, schemaSha256: sha('d'), keyspaces: ['shop'],
      tables: [{
        keyspace: 'shop', table: 'items', id: '5bc52802de2535edaeab188eecebb090', counter: false, partitionKeys: ['id'], sstables: 1, bytes: 4096,
        digest: { mode: 'full', spans: 1, rows: 100, sha256: sha('e'), stable: true, mapKeys: 'exact', decimals: 'exact' },
      }],
      sstables: 1, bytes: 4096, uploadedBytes: 4096, poolMs: 120,
    };
    return {
      consistency: { tag: '20260101T000000Z-aaaa', address: `10.0.1.${i}`, hostId: `host-${i}`, dataCenter: 'dc1', rack: 'rack1', releaseVersion: '4.1.7', tokens: [token], dataDirs: ['/var/lib/cassandra/data'] },
      facts,
      artifacts: [...['Data.db', 'Index.db', 'Statistics.db', 'TOC.txt'].map((component) => `d0/shop/items/nb-${i}-big-${component}`), SCHEMA_ARTIFACT],
    };
  };
  const nodes = { 'node-1': node(1, '-6148914691236517206'), 'node-2': node(2, '0'), 'node-3': node(3, '6148914691236517204') };

  it('are each node\'s schema artifact, as its facts record it: its SSTables are named by generations the facts do not record', () => {
    // Act
    const named = cassandraNamed({ facts: nodes['node-2'].facts });

    // Assess
    expect(named).toEqual(['schema.json']);
    expect(cassandraNamed({ facts: { schemaArtifact: 'schema.json' } })).toEqual([]); // checking the record says what is wrong with it
  });

  it('are found in a complete manifest of several nodes; a manifest that lost one node\'s schema artifact is reported under that node\'s name', () => {
    // Prepare
    const complete = manifestOf('cassandra', nodes);

    // Act
    const found = unlistedArtifacts(registry, complete);
    const lost = unlistedArtifacts(registry, losing(complete, 'node-2/schema.json'));

    // Assess
    expect(found).toEqual([]);
    expect(lost).toEqual(['node-2/schema.json']);
  });
});

/** A dumped table of a sharded store: the MySQL driver's table facts with `chunks` chunks, its role and DDL. */
const dumped = <R extends string>(database: string, table: string, role: R, chunks: number) => ({
  database, table, engine: 'InnoDB', rows: chunks * 1000, digest: sha('f').slice(0, 32), role, ddl: `CREATE TABLE \`${table}\` (...)`,
  chunks: Array.from({ length: chunks }, (_, range) => chunkArtifact(database, table, range)),
});

describe('the artifacts a Schemaless backup\'s record names', () => {
  const shard = (number: number, kind: ShardFacts['kind']): ShardFacts => {
    const database = `trips_${number}`;
    return {
      shard: number, database, kind, summary: { cells: 2000, maxAddedId: '2000', digest: sha('1').slice(0, 32) }, newCells: 2000, lateCells: 0,
      tables: [dumped(database, 'cells', 'cells', 2), ...(kind === 'full' ? [dumped(database, 'cells_by_email', 'index', 1)] : []), dumped(database, 'buffered_writes', 'buffered-writes', 1)],
    };
  };
  const facts = (kind: ShardFacts['kind'], ...shards: number[]): SchemalessFacts => ({
    shardCount: 4, cellTable: 'cells', indexes: [{ table: 'cells_by_email', column: 'profile', field: '$.email' }], bufferedWritesTable: 'buffered_writes',
    shards: shards.map((n) => shard(n, kind)), digestAlgorithm: 'crc32c-xor-v1', valueEncoding: 'exact',
  });
  const server = (kind: ShardFacts['kind'], ...shards: number[]): TakenNode => {
    const recorded = facts(kind, ...shards);
    return { consistency: { flavor: 'mariadb', serverVersion: '11.4.4', lockMs: 0, lock: 'none', shards: [] }, facts: recorded, artifacts: recorded.shards.flatMap((s) => s.tables.flatMap((t) => t.chunks)) };
  };

  it('are every chunk of every shard\'s tables, a full backup\'s and an incremental\'s (which dumps no index table)', () => {
    // Act
    const full = schemalessNamed({ facts: facts('full', 0) });
    const incremental = schemalessNamed({ facts: facts('incremental', 0) });

    // Assess
    expect(full).toEqual([
      'data/trips_0/cells.000000.tsv.zst', 'data/trips_0/cells.000001.tsv.zst', 'data/trips_0/cells_by_email.000000.tsv.zst', 'data/trips_0/buffered_writes.000000.tsv.zst',
    ]);
    expect(incremental).toEqual(['data/trips_0/cells.000000.tsv.zst', 'data/trips_0/cells.000001.tsv.zst', 'data/trips_0/buffered_writes.000000.tsv.zst']);
    expect(schemalessNamed({ facts: { shards: [] } })).toEqual([]); // checking the record says what is wrong with it
  });

  it('are found in a complete manifest of several servers; a manifest that lost one chunk is reported under its server\'s name', () => {
    // Prepare
    const complete = manifestOf('schemaless', { 'sl-a': server('full', 0, 2), 'sl-b': server('full', 1, 3) });
    const incremental = manifestOf('schemaless', { 'sl-a': server('incremental', 0, 2), 'sl-b': server('incremental', 1, 3) });

    // Act
    const found = [...unlistedArtifacts(registry, complete), ...unlistedArtifacts(registry, incremental)];
    const lost = unlistedArtifacts(registry, losing(complete, 'sl-b/data/trips_3/cells.000001.tsv.zst'));

    // Assess
    expect(found).toEqual([]);
    expect(lost).toEqual(['sl-b/data/trips_3/cells.000001.tsv.zst']);
  });
});

describe('the artifacts a Docstore backup\'s record names', () => {
  const facts = (...partitions: number[]): DocstoreFacts => ({
    partitionCount: 2, schemaTable: 'docstore_schema', digestAlgorithm: 'crc32c-xor-v1', valueEncoding: 'exact',
    definitions: { trips: { partitionKey: 'rider_id', sortKey: 'trip_id', columns: [{ name: 'city', type: 'string' }], indexes: [{ table: 'trips_by_city', column: 'city' }] } },
    partitions: partitions.map((partition) => {
      const database = `ds_${partition}`;
      return { partition, database, tables: [dumped(database, 'docstore_schema', 'schema' as const, 1), dumped(database, 'trips', 'documents' as const, 3), dumped(database, 'trips_by_city', 'index' as const, 1)] };
    }),
  });
  const server = (...partitions: number[]): TakenNode => {
    const recorded = facts(...partitions);
    return { consistency: { flavor: 'mysql', serverVersion: '8.0.40', lockMs: 0, lock: 'none', partitions: [], globalSnapshot: false }, facts: recorded, artifacts: recorded.partitions.flatMap((p) => p.tables.flatMap((t) => t.chunks)) };
  };

  it('are every chunk of every partition\'s tables: the schema table, the documents and the index entries', () => {
    // Act
    const named = docstoreNamed({ facts: facts(1) });

    // Assess
    expect(named).toEqual([
      'data/ds_1/docstore_schema.000000.tsv.zst', 'data/ds_1/trips.000000.tsv.zst', 'data/ds_1/trips.000001.tsv.zst', 'data/ds_1/trips.000002.tsv.zst', 'data/ds_1/trips_by_city.000000.tsv.zst',
    ]);
    expect(docstoreNamed({ facts: facts() })).toEqual([]); // a server that holds no partition dumps nothing
    expect(docstoreNamed({ facts: { partitions: 'none' } })).toEqual([]); // checking the record says what is wrong with it
  });

  it('are found in a complete manifest, of one server or several; a manifest that lost one chunk is reported', () => {
    // Prepare
    const one = manifestOf('docstore', { 'ds-a': server(0, 1) });
    const several = manifestOf('docstore', { 'ds-a': server(0), 'ds-b': server(1), 'ds-spare': server() });

    // Act
    const found = [...unlistedArtifacts(registry, one), ...unlistedArtifacts(registry, several)];
    const lostFromOne = unlistedArtifacts(registry, losing(one, 'data/ds_1/trips.000002.tsv.zst'));
    const lostFromSeveral = unlistedArtifacts(registry, losing(several, 'ds-a/data/ds_0/trips_by_city.000000.tsv.zst'));

    // Assess
    expect(found).toEqual([]);
    expect(lostFromOne).toEqual(['data/ds_1/trips.000002.tsv.zst']);
    expect(lostFromSeveral).toEqual(['ds-a/data/ds_0/trips_by_city.000000.tsv.zst']);
  });
});
