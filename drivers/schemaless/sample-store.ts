/**
 * A sample Schemaless store in the reference layout, for the demo, the contract kit, the tests and
 * the benchmark: shards created over given servers, and cells written the way a store writes them
 * — a user's `profile` (unicode JSON, indexed by email on the email's shard) or `avatar` (binary:
 * every byte value, tabs, newlines, NULs), placed by CRC32(row_key), with buffered writes for a
 * shard now and then. Cell n's content and `created_at` depend on n alone, so a test can tell
 * which cells a point in time keeps.
 */
import { createHash } from 'node:crypto';
import { withServer, type SampleServer } from '../mysql/sharded/sample-server';
import { quoteId } from '../mysql/shared/connection';

export { withServer, type SampleServer } from '../mysql/sharded/sample-server';
import type { SchemalessConfig } from './config';
import { bufferedWritesTableDdl, cellTableDdl, indexTableDdl, shardOf } from './layout';

/** The sample's index: profiles by email. */
export const SAMPLE_INDEX = { table: 'index_user_email', column: 'profile', field: '$.email' } as const;
/** `created_at` of cell 1; cell n is created n seconds later. */
export const SAMPLE_EPOCH = Date.parse('2026-01-01T00:00:00Z');

/** The config of `shardCount` shards spread over `servers` round-robin, databases `<prefix>_<shard>`. */
export function sampleConfig(servers: readonly SampleServer[], shardCount: number, prefix = 'sl'): SchemalessConfig {
  return {
    servers: servers.map((s) => ({ name: s.name, host: s.host, port: s.port, user: 'root', password: '', connectTimeoutMs: 10_000 })),
    shards: Array.from({ length: shardCount }, (_, shard) => ({ shard, server: servers[shard % servers.length].name, database: `${prefix}_${String(shard).padStart(3, '0')}` })),
    cellTable: 'cell',
    indexes: [{ ...SAMPLE_INDEX }],
    bufferedWritesTable: 'buffered_writes',
    parallelism: 2,
    chunkRows: 200_000,
    streamToStore: true,
  };
}

/** Creates every shard database of `config` with the reference layout's tables. */
export async function createSampleShards(config: Pick<SchemalessConfig, 'servers' | 'shards'>): Promise<void> {
  for (const shard of config.shards) {
    const server = config.servers.find((s) => s.name === shard.server)!;
    await withServer(server, async (c) => {
      await c.query(`CREATE DATABASE ${quoteId(shard.database)} CHARACTER SET utf8mb4`);
      await c.query(`USE ${quoteId(shard.database)}`);
      await c.query(cellTableDdl('cell'));
      await c.query(indexTableDdl(SAMPLE_INDEX.table));
      await c.query(bufferedWritesTableDdl('buffered_writes'));
    });
  }
}

/** Cell n: its row key, column, ref key, body and creation time. */
export function sampleCell(n: number): { rowKey: Buffer; column: string; refKey: number; body: Buffer; createdAt: string; email?: string } {
  const user = Math.ceil(n / 2);
  const rowKey = createHash('md5').update(`user-${user}`).digest();
  const createdAt = new Date(SAMPLE_EPOCH + n * 1000).toISOString().slice(0, 19).replace('T', ' ');
  if (n % 2 === 1) {
    const email = `user${user}@exämple.com`;
    const body = Buffer.from(JSON.stringify({ email, name: `Zoë ${user} 🚀`, bio: 'tab\there, newline\nthere, quote " and \\ back' }), 'utf8');
    return { rowKey, column: 'profile', refKey: n, body, createdAt, email };
  }
  const body = Buffer.alloc(64 + (n % 512));
  for (let i = 0; i < body.length; i += 1) body[i] = (n * 31 + i * 7) & 0xff;
  return { rowKey, column: 'avatar', refKey: n, body, createdAt };
}

/** Writes cells `from`…`to` (and their index entries, and a buffered write every 100th) in batches per shard. */
export async function writeSampleCells(config: Pick<SchemalessConfig, 'servers' | 'shards'>, from: number, to: number): Promise<void> {
  const count = config.shards.length;
  const cells = new Map<number, unknown[][]>();
  const entries = new Map<number, unknown[][]>();
  const buffered = new Map<number, unknown[][]>();
  const add = (map: Map<number, unknown[][]>, shard: number, row: unknown[]) => map.set(shard, [...(map.get(shard) ?? []), row]);
  for (let n = from; n <= to; n += 1) {
    const cell = sampleCell(n);
    const shard = shardOf(cell.rowKey, count);
    add(cells, shard, [cell.rowKey, cell.column, cell.refKey, cell.body, cell.createdAt]);
    if (cell.email) add(entries, shardOf(Buffer.from(cell.email, 'utf8'), count), [Buffer.from(cell.email, 'utf8'), cell.rowKey, cell.column, cell.refKey]);
    if (n % 100 === 0) add(buffered, (shard + 1) % count, [shard, cell.rowKey, cell.column, cell.refKey, cell.body, cell.createdAt]);
  }
  for (const shard of config.shards) {
    const server = config.servers.find((s) => s.name === shard.server)!;
    await withServer(server, async (c) => {
      const db = quoteId(shard.database);
      const insert = async (sql: string, rows: unknown[][] | undefined) => {
        for (let i = 0; rows && i < rows.length; i += 500) await c.query(sql, [rows.slice(i, i + 500)]);
      };
      await insert(`INSERT INTO ${db}.cell (row_key, column_name, ref_key, body, created_at) VALUES ?`, cells.get(shard.shard));
      await insert(`INSERT INTO ${db}.${quoteId(SAMPLE_INDEX.table)} (index_key, row_key, column_name, ref_key) VALUES ?`, entries.get(shard.shard));
      await insert(`INSERT INTO ${db}.buffered_writes (shard, row_key, column_name, ref_key, body, created_at) VALUES ?`, buffered.get(shard.shard));
    });
  }
}
