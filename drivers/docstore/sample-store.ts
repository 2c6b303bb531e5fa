/**
 * A sample Docstore instance in the reference layout, for the demo, the contract kit and the tests:
 * partitions created over given servers with the schema table describing two document tables —
 * `trips` (indexed by city) and `riders` (indexed by email) — and documents written the way the
 * store writes them: unicode JSON, a base64 payload, the typed columns derived from the fields,
 * each document on the partition of its partition key and each index entry on its key's.
 */
import { createHash } from 'node:crypto';
import { quoteId } from '../mysql/shared/connection';
import { withServer, type SampleServer } from '../mysql/sharded/sample-server';
import type { DocstoreConfig } from './config';
import { documentTableDdl, indexTableDdl, schemaTableDdl, type TableDefinition } from './layout';
import { shardOf } from '../mysql/sharded/shard-map';

export const SAMPLE_SCHEMA: Record<string, TableDefinition> = {
  trips: {
    partitionKey: 'rider_id', sortKey: 'trip_id',
    columns: [{ name: 'city', type: 'string' }, { name: 'fare', type: 'decimal' }, { name: 'distance_m', type: 'integer' }],
    indexes: [{ table: 'trips_by_city', column: 'city' }],
  },
  riders: {
    partitionKey: 'rider_id', sortKey: 'kind',
    columns: [{ name: 'email', type: 'string' }],
    indexes: [{ table: 'riders_by_email', column: 'email' }],
  },
};

const CITIES = ['Zürich', 'São Paulo', '東京', 'Kraków', 'Reykjavík', 'New York'];

/** The config of `count` partitions spread over `servers` round-robin, databases `<prefix>_<n>`. */
export function sampleConfig(servers: readonly SampleServer[], count: number, prefix = 'ds'): DocstoreConfig {
  return {
    servers: servers.map((s) => ({ name: s.name, host: s.host, port: s.port, user: 'root', password: '', connectTimeoutMs: 10_000 })),
    partitions: Array.from({ length: count }, (_, partition) => ({ partition, server: servers[partition % servers.length].name, database: `${prefix}_${partition}` })),
    schemaTable: 'docstore_schema',
    parallelism: 2,
    chunkRows: 200_000,
    streamToStore: true,
  };
}

/** Creates every partition database with the schema table (the sample schema in it), document and index tables. */
export async function createSamplePartitions(config: Pick<DocstoreConfig, 'servers' | 'partitions'>): Promise<void> {
  for (const partition of config.partitions) {
    const server = config.servers.find((s) => s.name === partition.server)!;
    await withServer(server, async (c) => {
      await c.query(`CREATE DATABASE ${quoteId(partition.database)} CHARACTER SET utf8mb4`);
      await c.query(`USE ${quoteId(partition.database)}`);
      await c.query(schemaTableDdl('docstore_schema'));
      for (const [table, definition] of Object.entries(SAMPLE_SCHEMA)) {
        await c.query('INSERT INTO docstore_schema VALUES (?, ?)', [table, JSON.stringify(definition)]);
        await c.query(documentTableDdl(table, definition));
        for (const index of definition.indexes) await c.query(indexTableDdl(index.table));
      }
    });
  }
}

/** Trip n and its rider's profile (written once per rider): documents with their typed columns. */
export function sampleDocuments(n: number): Array<{ table: string; doc: Record<string, unknown> }> {
  const rider = `rider-${Math.ceil(n / 3)}`;
  const payload = createHash('sha256').update(String(n)).digest().toString('base64');
  const trip = { rider_id: rider, trip_id: `trip-${String(n).padStart(8, '0')}`, city: CITIES[n % CITIES.length], fare: Number(((n % 997) + 0.25).toFixed(2)), distance_m: n * 17, note: `Grüße ${n} 🚕 "quoted" \\ back`, payload };
  const docs: Array<{ table: string; doc: Record<string, unknown> }> = [{ table: 'trips', doc: trip }];
  if (n % 3 === 1) docs.push({ table: 'riders', doc: { rider_id: rider, kind: 'profile', email: `${rider}@exämple.com`, name: `Zoë ${n}` } });
  return docs;
}

/** Writes documents `from`…`to` and their index entries, each on its partition, in batches per partition. */
export async function writeSampleDocuments(config: Pick<DocstoreConfig, 'servers' | 'partitions'>, from: number, to: number): Promise<void> {
  const count = config.partitions.length;
  const rows = new Map<string, unknown[][]>(); // `${partition}\0${table}` → rows
  const add = (partition: number, table: string, row: unknown[]) => {
    const key = `${partition}\u0000${table}`;
    rows.set(key, [...(rows.get(key) ?? []), row]);
  };
  for (let n = from; n <= to; n += 1) {
    for (const { table, doc } of sampleDocuments(n)) {
      const definition = SAMPLE_SCHEMA[table];
      const partitionKey = Buffer.from(String(doc[definition.partitionKey]), 'utf8');
      add(shardOf(partitionKey, count), table, [partitionKey, Buffer.from(String(doc[definition.sortKey]), 'utf8'), JSON.stringify(doc), ...definition.columns.map((c) => doc[c.name] ?? null)]);
      for (const index of definition.indexes) {
        const value = doc[index.column];
        if (value === undefined || value === null) continue;
        const key = Buffer.from(String(value), 'utf8');
        add(shardOf(key, count), index.table, [key, partitionKey, Buffer.from(String(doc[definition.sortKey]), 'utf8')]);
      }
    }
  }
  for (const partition of config.partitions) {
    const server = config.servers.find((s) => s.name === partition.server)!;
    await withServer(server, async (c) => {
      for (const [key, batch] of rows) {
        const [number, table] = key.split('\u0000');
        if (Number(number) !== partition.partition) continue;
        for (let i = 0; i < batch.length; i += 500) await c.query(`INSERT INTO ${quoteId(partition.database)}.${quoteId(table)} VALUES ?`, [batch.slice(i, i + 500)]);
      }
    });
  }
}
