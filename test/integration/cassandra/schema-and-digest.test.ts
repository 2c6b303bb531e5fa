/**
 * The schema as CQL and the table digests (drivers/cassandra/schema-cql.ts, table-digest.ts) on a
 * real 1-node Cassandra 2.1: the seed keyspace plus a NetworkTopologyStrategy keyspace without
 * durable writes holding a composite partition key, mixed-case and reserved-word columns, a tuple,
 * table options and secondary indexes, user-defined types (one made of another), and a COMPACT STORAGE table. Digests come first (the last
 * test drops the keyspaces and recreates them from the CQL read before).
 */
import { Client, types } from 'cassandra-driver';
import { assertSameShapes, createMissingSchema, liveTableIds, readSchema, type KeyspaceSchema } from '../../../drivers/cassandra/schema-cql';
import { digestSpans, sampleSpans, spansEndingAt, type SpanDigest, type TokenSpan } from '../../../drivers/cassandra/table-digest';
import { evenTokens } from '../../../drivers/cassandra/tokens';
import { seedKeyspace, startTestCassandra, stopAllCassandra, type TestCassandra } from '../../harness/cassandra';
import { wireDecimal } from '../../harness/cassandra-values';

const ROWS = 200;
const READINGS = 60;
const LEGACY = 40;
const PLACES = 12;
/** Rows per table: page_views has 50 pages whatever the row count. */
const EXPECTED_ROWS: Record<string, number> = { 'shop.items': ROWS, 'shop.events': ROWS, 'shop.page_views': 50, 'shop.legacy': LEGACY, 'Analytics.readings': READINGS, 'Analytics.places': PLACES };

const EXTRA_SCHEMA = [
  `CREATE KEYSPACE "Analytics" WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': '1'} AND durable_writes = false`,
  `CREATE TABLE "Analytics".readings (region text, day int, "sensorId" text, "select" int, value blob, pair frozen<tuple<int, text>>, counts map<text, int>,
     PRIMARY KEY ((region, day), "sensorId")) WITH CLUSTERING ORDER BY ("sensorId" DESC) AND comment = 'it''s readings' AND gc_grace_seconds = 3600
     AND default_time_to_live = 86400 AND compaction = {'class': 'LeveledCompactionStrategy', 'sstable_size_in_mb': '64'}
     AND compression = {'sstable_compression': 'DeflateCompressor', 'chunk_length_kb': '128'} AND bloom_filter_fp_chance = 0.02
     AND caching = {'keys': 'NONE', 'rows_per_partition': '10'}`,
  `CREATE INDEX readings_select ON "Analytics".readings ("select")`,
  `CREATE INDEX readings_counts ON "Analytics".readings (KEYS(counts))`,
  `CREATE TABLE shop.legacy (k text, c int, v text, PRIMARY KEY (k, c)) WITH COMPACT STORAGE AND CLUSTERING ORDER BY (c DESC)`,
  // A type made of another, named so that it sorts before it: created after it all the same.
  `CREATE TYPE "Analytics".point (x double, "Y" double)`,
  `CREATE TYPE "Analytics"."Place" (name text, at frozen<point>, pair frozen<tuple<int, text>>)`,
  `CREATE TABLE "Analytics".places (id int PRIMARY KEY, place frozen<"Place">, trail list<frozen<point>>)`,
  `CREATE TABLE shop.seen (k int PRIMARY KEY, at map<timestamp, int>)`,
];

let cassandra: TestCassandra;
let client: Client;
let schema: KeyspaceSchema[];

function tableOf(name: string) {
  const [keyspace, table] = name.split('.');
  const found = schema.find((k) => k.keyspace === keyspace)?.tables.find((t) => t.table === table);
  if (!found) throw new Error(`no table ${name} in the schema read`);
  return found;
}

const sumRows = (digests: SpanDigest[]) => digests.reduce((sum, d) => sum + d.rows, 0);

/** What the driver's metadata says of a keyspace and its tables: what the CQL must reproduce. */
async function metadataOf(keyspace: string): Promise<unknown> {
  await client.metadata.refreshKeyspace(keyspace);
  const ks = (client.metadata.keyspaces as unknown as Record<string, { strategy: string; strategyOptions: unknown; durableWrites: boolean }>)[keyspace];
  const tables = [...(await liveTableIds(client, keyspace)).keys()].sort();
  const described = await Promise.all(tables.map(async (name) => {
    const t = await client.metadata.getTable(keyspace, name);
    return {
      name,
      columns: t.columns.map((c) => ({ name: c.name, type: c.type, isStatic: (c as { isStatic?: boolean }).isStatic })),
      partitionKeys: t.partitionKeys.map((c) => c.name),
      clusteringKeys: t.clusteringKeys.map((c) => c.name),
      clusteringOrder: t.clusteringOrder,
      isCompact: t.isCompact,
      indexes: t.indexes.map((i) => ({ name: i.name, target: i.target, kind: i.kind })),
      options: [t.bloomFilterFalsePositiveChance, t.caching, t.comment, t.compactionClass, t.compactionOptions, t.compression, t.defaultTtl, t.gcGraceSeconds,
        t.localReadRepairChance, t.readRepairChance, t.speculativeRetry, t.minIndexInterval, t.maxIndexInterval, t.memtableFlushPeriod],
    };
  }));
  return { strategy: ks.strategy, strategyOptions: ks.strategyOptions, durableWrites: ks.durableWrites, tables: described };
}

beforeAll(async () => {
  cassandra = await startTestCassandra('schema-digest');
  client = await cassandra.connect();
  await seedKeyspace(client, { keyspace: 'shop', replicationFactor: 1, rows: ROWS });
  for (const statement of EXTRA_SCHEMA) await client.execute(statement);
  for (let i = 0; i < READINGS; i++) {
    await client.execute(
      'INSERT INTO "Analytics".readings (region, day, "sensorId", "select", value, pair, counts) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [`r${i % 4}`, i % 3, `s${i}`, i, Buffer.from([i, 255 - i]), new types.Tuple(i, `p${i}`), { a: i, b: -i }],
      { prepare: true },
    );
  }
  for (let i = 0; i < PLACES; i++) {
    await client.execute('INSERT INTO "Analytics".places (id, place, trail) VALUES (?, ?, ?)',
      [i, { name: `place ${i} ☃`, at: { x: i / 3, Y: -i }, pair: new types.Tuple(i, 'p') }, [{ x: 1, Y: 2 }, { x: i, Y: 0.5 }]], { prepare: true });
  }
  for (let i = 0; i < LEGACY; i++) await client.execute('INSERT INTO shop.legacy (k, c, v) VALUES (?, ?, ?)', [`k${i % 7}`, i, `v${i}`], { prepare: true });
  await client.execute('INSERT INTO shop.seen (k, at) VALUES (1, ?)', [{ '2024-01-01T00:00:00.123Z': 1 }], { prepare: true });
  schema = await readSchema(client);
}, 300_000);

afterAll(async () => {
  await stopAllCassandra();
}, 120_000);

describe('digestSpans on a 1-node Cassandra 2.1', () => {
  it('counts every seeded row over the node\'s own span and over the whole ring, the same on a second read', async () => {
    // Prepare
    const nodeSpans = spansEndingAt(cassandra.nodes[0].local.tokens);
    const wholeRing: TokenSpan[] = [{ start: '-9223372036854775808', end: '9223372036854775807' }];

    for (const [name, rows] of Object.entries(EXPECTED_ROWS)) {
      // Act
      const first = await digestSpans(client, tableOf(name), nodeSpans);
      const second = await digestSpans(client, tableOf(name), nodeSpans);
      const ring = await digestSpans(client, tableOf(name), wholeRing);

      // Assess
      expect([name, sumRows(first)]).toEqual([name, rows]);
      expect(second).toEqual(first);
      expect(ring[0].rows).toBe(rows);
      // The same rows in the same order: (t, t] read as (t, max] then (min, t] is the ring from min when t is min.
      expect(ring[0].sha256).toBe(first[0].sha256);
    }
  });

  it('changes the digest of the one span holding a changed cell and no other', async () => {
    // Prepare
    const table = tableOf('shop.items');
    const spans = spansEndingAt(evenTokens(8));
    const before = await digestSpans(client, table, spans);
    const tokenRow = await client.execute('SELECT token(id) AS t FROM shop.items WHERE id = 7');
    const token = BigInt(String(tokenRow.first().t));
    const holding = spans.findIndex((s) => {
      const [start, end] = [BigInt(s.start), BigInt(s.end)];
      return start < end ? token > start && token <= end : token > start || token <= end;
    });

    // Act
    await client.execute("UPDATE shop.items SET name = 'changed' WHERE id = 7");
    const after = await digestSpans(client, table, spans);

    // Assess
    expect(sumRows(before)).toBe(ROWS);
    expect(after.map((d) => d.rows)).toEqual(before.map((d) => d.rows));
    after.forEach((digest, i) => {
      if (i === holding) expect(digest.sha256).not.toBe(before[i].sha256);
      else expect(digest.sha256).toBe(before[i].sha256);
    });
  });

  it('tells decimals apart that differ only in a negative scale (1E+3, 1E+4), and reads them alike as digests taken before did when asked', async () => {
    // Prepare
    const table = tableOf('shop.items');
    const spans = spansEndingAt(['0']);
    const [original] = (await client.execute('SELECT price FROM shop.items WHERE id = 7')).rows;
    const read = async (scale: number) => {
      await client.execute('UPDATE shop.items SET price = ? WHERE id = 7', [wireDecimal(scale)], { prepare: true });
      return { exact: await digestSpans(client, table, spans), asBefore: await digestSpans(client, table, spans, { decimals: 'driver' }) };
    };

    try {
      // Act
      const thousand = await read(-3);
      const tenThousand = await read(-4);

      // Assess
      expect(thousand.exact[0].rows).toBe(ROWS);
      expect(thousand.exact[0].sha256).not.toBe(tenThousand.exact[0].sha256);
      expect(thousand.asBefore[0].sha256).toBe(tenThousand.asBefore[0].sha256);
      expect(thousand.asBefore[0].sha256).not.toBe(thousand.exact[0].sha256);
    } finally {
      await client.execute('UPDATE shop.items SET price = ? WHERE id = 7', [original.price], { prepare: true });
    }
  });

  it('finds no more rows in a sample of the ring than in the whole of it', async () => {
    for (const name of Object.keys(EXPECTED_ROWS)) {
      // Act
      const sample = await digestSpans(client, tableOf(name), sampleSpans(64, 8, name));

      // Assess
      expect(sample).toHaveLength(8);
      expect(sumRows(sample)).toBeLessThanOrEqual(EXPECTED_ROWS[name]);
    }
  });

  it('digests a map keyed by timestamps through the driver\'s clients (maps as Map), and refuses it through a client that decodes maps as plain objects', async () => {
    // Prepare: a client with the driver's default decoding
    const plain = new Client({ contactPoints: cassandra.contactPoints, localDataCenter: 'datacenter1', protocolOptions: { port: cassandra.nativePort, maxVersion: 3 } });

    try {
      await plain.connect();

      // Act / Assess
      const [digest] = await digestSpans(client, tableOf('shop.seen'), spansEndingAt(['0']));
      expect(digest.rows).toBe(1);
      await expect(digestSpans(plain, tableOf('shop.seen'), spansEndingAt(['0'])))
        .rejects.toMatchObject({ name: 'PermanentError', code: 'CASSANDRA_DIGEST_NEEDS_MAP_DECODING' });
    } finally {
      await plain.shutdown();
    }
  });
});

describe('readSchema and createMissingSchema on a 1-node Cassandra 2.1', () => {
  it('refuses a keyspace that does not exist', async () => {
    await expect(readSchema(client, ['shop', 'nope'])).rejects.toMatchObject({ name: 'PermanentError', code: 'CASSANDRA_NO_SUCH_KEYSPACE' });
  });

  it('reads every table with its id, keys, counter flag and indexes', () => {
    expect(schema.map((k) => [k.keyspace, k.tables.map((t) => t.table)])).toEqual([
      ['Analytics', ['places', 'readings']],
      ['shop', ['events', 'items', 'legacy', 'page_views', 'seen']],
    ]);
    const readings = tableOf('Analytics.readings');
    expect(readings).toMatchObject({ partitionKeys: ['region', 'day'], clusteringKeys: ['sensorId'], counter: false });
    expect(readings.indexes).toEqual([
      'CREATE INDEX readings_counts ON "Analytics".readings (keys(counts))',
      'CREATE INDEX readings_select ON "Analytics".readings ("select")',
    ]);
    expect(tableOf('shop.page_views').counter).toBe(true);
    expect(tableOf('shop.events').clusteringKeys).toEqual(['at', 'seq']);
    expect(schema.find((k) => k.keyspace === 'Analytics')?.types).toEqual([
      { type: 'point', cql: 'CREATE TYPE "Analytics".point (x double, "Y" double)' },
      { type: 'Place', cql: 'CREATE TYPE "Analytics"."Place" (name text, at frozen<point>, pair frozen<tuple<int, text>>)' },
    ]);
    expect(schema.find((k) => k.keyspace === 'shop')?.types).toEqual([]);
  });

  it('recreates dropped keyspaces from their CQL: the same metadata, new table ids, and nothing more to create the second time', async () => {
    // Prepare
    const keyspaces = schema.map((k) => k.keyspace);
    const metadataBefore = await Promise.all(keyspaces.map(metadataOf));
    const idsBefore = await Promise.all(keyspaces.map((k) => liveTableIds(client, k)));
    for (const keyspace of keyspaces) await client.execute(`DROP KEYSPACE "${keyspace}"`);

    // Act
    const created = await createMissingSchema(client, schema);
    const again = await createMissingSchema(client, schema);

    // Assess
    expect(created).toEqual([
      'Analytics', 'Analytics.point', 'Analytics.Place', 'Analytics.places', 'Analytics.readings', 'Analytics.readings.readings_counts', 'Analytics.readings.readings_select',
      'shop', 'shop.events', 'shop.items', 'shop.legacy', 'shop.page_views', 'shop.seen',
    ]);
    expect(again).toEqual([]);
    expect(await Promise.all(keyspaces.map(metadataOf))).toEqual(metadataBefore);
    const idsAfter = await Promise.all(keyspaces.map((k) => liveTableIds(client, k)));
    idsAfter.forEach((ids, i) => {
      expect([...ids.keys()]).toEqual([...idsBefore[i].keys()]);
      for (const [table, id] of ids) expect(id).not.toBe(idsBefore[i].get(table));
    });
    const reread = await readSchema(client);
    const withoutIds = (s: KeyspaceSchema[]) => s.map((k) => ({ ...k, tables: k.tables.map((t) => ({ ...t, id: '' })) }));
    expect(withoutIds(reread)).toEqual(withoutIds(schema));
  });

  it('refuses a target table of another shape than the backup\'s (a column of another type) and a type with other fields, naming both, and passes the same shape with other options', async () => {
    // Prepare: shop.seen recreated with another value type; a field added to a type; shop.items given another comment
    await client.execute('DROP TABLE shop.seen');
    await client.execute('CREATE TABLE shop.seen (k int PRIMARY KEY, at map<timestamp, text>)');
    await client.execute('ALTER TYPE "Analytics".point ADD z double');
    await client.execute(`ALTER TABLE shop.items WITH comment = 'not COMPACT STORAGE'`);

    // Act
    const refused = await assertSameShapes(client, schema).then(() => undefined, (error: Error & { code?: string }) => error);

    // Assess
    expect(refused).toMatchObject({ code: 'CASSANDRA_SCHEMA_DIFFERS' });
    expect(refused?.message).toContain("shop.seen (the backup's: at map<timestamp, int>; the target's: at map<timestamp, text>)");
    expect(refused?.message).toContain(`type Analytics.point (the backup's: CREATE TYPE "Analytics".point (x double, "Y" double); the target's: CREATE TYPE "Analytics".point (x double, "Y" double, z double))`);
    expect(refused?.message).not.toContain('shop.items');
    await expect(assertSameShapes(client, await readSchema(client))).resolves.toBeUndefined();
  });
});
