/**
 * Secondary indexes derived from rows, across the shards (or partitions) of a store on MySQL
 * servers — Schemaless's indexes over cells, Docstore's over documents. An entry lives on the
 * shard of its index key, its row on the shard of the row's key, so an entry and its row are
 * often on different shards and servers. What an index must hold is a query over every source
 * shard (the engine's: {@link DerivedIndex.derived}); what it holds is its table on each shard.
 *
 * - {@link checkDerivedIndexes}: per index and per shard holding entries, the derived entries due
 *   there against the entries there, as counts and order-independent digests (the MySQL driver's
 *   TableDigest): a missing entry and an entry pointing to no row both fail the shard; nothing is
 *   held in memory and the rows never leave their server.
 * - {@link repairDerivedIndex}: makes every shard's index table hold exactly the derived entries,
 *   and counts what it changed: the derived entries go into a temporary table on the holder's
 *   server (batched INSERTs through a writer connection, one batch per shard in memory), then one
 *   DELETE removes the dangling entries and one INSERT … SELECT adds the missing ones.
 */
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { quoteId } from '../shared/connection';
import type { RawRow } from '../shared/row-format';
import { unpackRow } from '../shared/row-packet';
import { TableDigest } from '../shared/table-digest';
import { digestQuery, streamQueryRows } from '../shared/table-reader';

/** One shard of the store, reachable on its server (shards of one server may share the connection). */
export interface ShardConnection {
  shard: number;
  database: string;
  connection: Connection;
}

/** An index whose entries derive from rows. */
export interface DerivedIndex {
  /** The index table in every shard database. */
  table: string;
  /** The columns that make an entry (the index table's key), in order. */
  columns: readonly string[];
  /**
   * The SELECT, on `source`, of the entries its rows call for: {@link columns} in order, then the
   * number of the shard that holds each (0 … `shardCount`-1).
   */
  derived(source: ShardConnection, shardCount: number): string;
  /** An entry's values as INSERT parameters, copied (the row's buffers are not ours to keep). */
  params(entry: RawRow): unknown[];
}

export interface ShardIndexCheck {
  shard: number;
  /** Entries the shard holds. */
  entries: number;
  /** Entries the rows of every shard call for on it. */
  expected: number;
  ok: boolean;
}

export interface IndexCheck {
  index: string;
  ok: boolean;
  shards: ShardIndexCheck[];
}

/** What a repair changed on one index. */
export interface IndexRepair {
  index: string;
  /** Entries it holds now, on every shard. */
  entries: number;
  /** Entries removed: they pointed to no row (or not to the row's current value). */
  dangling: number;
  /** Entries added: a row called for them and they were not there. */
  missing: number;
}

/** Calls `onEntry` with every entry the rows of `source` call for in `index`, and its holder shard; awaits it (the stream waits meanwhile). */
export async function eachDerivedEntry(
  source: ShardConnection, index: DerivedIndex, shardCount: number, onEntry: (entry: RawRow, shard: number) => void | Promise<void>,
): Promise<void> {
  const width = index.columns.length;
  await streamQueryRows(source.connection, index.derived(source, shardCount), (packet) => {
    const row = unpackRow(packet);
    return onEntry(row.slice(0, width), Number(row[width]!.toString('latin1')));
  });
}

const entriesOf = (index: DerivedIndex, holder: ShardConnection, from = `${quoteId(holder.database)}.${quoteId(index.table)}`): string =>
  `SELECT ${index.columns.map(quoteId).join(', ')} FROM ${from}`;

/** Checks every index over `shards` (all N of the store, numbered 0…N-1). */
export async function checkDerivedIndexes(shards: readonly ShardConnection[], indexes: readonly DerivedIndex[]): Promise<IndexCheck[]> {
  const checks: IndexCheck[] = [];
  for (const index of indexes) {
    const expected = Array.from({ length: shards.length }, () => new TableDigest()); // by shard number
    for (const source of shards) await eachDerivedEntry(source, index, shards.length, (entry, shard) => expected[shard].add(entry));
    const results: ShardIndexCheck[] = [];
    for (const holder of shards) {
      const actual = await digestQuery(holder.connection, entriesOf(index, holder));
      const want = expected[holder.shard];
      results.push({ shard: holder.shard, entries: actual.rows, expected: want.rows, ok: actual.rows === want.rows && actual.digest === want.hex() });
    }
    checks.push({ index: index.table, ok: results.every((r) => r.ok), shards: results });
  }
  return checks;
}

/** Entries per INSERT. */
const BATCH = 500;

/**
 * Repairs `index` on `shards` from their rows (see the file comment), writing through `writers`
 * (a connection per shard, none of them a reading one: a connection cannot write while it
 * streams), `options.batch` entries an INSERT (default 500).
 */
export async function repairDerivedIndex(
  shards: readonly ShardConnection[], writers: ReadonlyMap<number, Connection>, index: DerivedIndex, options: { batch?: number } = {},
): Promise<IndexRepair> {
  const batchSize = options.batch ?? BATCH;
  const writerOf = (shard: number): Connection => {
    const writer = writers.get(shard);
    if (!writer) throw new Error(`no connection to write shard ${shard}`);
    return writer;
  };
  // A temporary table (the writer's session only) in the holder's database.
  const scratch = (shard: number) => `${quoteId(shards.find((s) => s.shard === shard)!.database)}.${quoteId(`dbbackup_expected_${shard}`)}`;
  const columns = index.columns.map(quoteId).join(', ');
  for (const holder of shards) {
    await writerOf(holder.shard).query(`DROP TEMPORARY TABLE IF EXISTS ${scratch(holder.shard)}`);
    await writerOf(holder.shard).query(`CREATE TEMPORARY TABLE ${scratch(holder.shard)} LIKE ${quoteId(holder.database)}.${quoteId(index.table)}`);
  }
  const batches = new Map<number, unknown[][]>();
  const flush = async (shard: number) => {
    const rows = batches.get(shard) ?? [];
    if (rows.length === 0) return;
    batches.set(shard, []);
    const tuple = `(${index.columns.map(() => '?').join(', ')})`;
    await writerOf(shard).query(`INSERT IGNORE INTO ${scratch(shard)} (${columns}) VALUES ${rows.map(() => tuple).join(', ')}`, rows.flat());
  };
  for (const source of shards) {
    await eachDerivedEntry(source, index, shards.length, async (entry, shard) => {
      const batch = batches.get(shard) ?? [];
      batches.set(shard, batch);
      batch.push(index.params(entry));
      if (batch.length >= batchSize) await flush(shard);
    });
  }
  for (const shard of batches.keys()) await flush(shard);
  const repair: IndexRepair = { index: index.table, entries: 0, dangling: 0, missing: 0 };
  const join = index.columns.map((c) => `i.${quoteId(c)} = e.${quoteId(c)}`).join(' AND ');
  const first = quoteId(index.columns[0]);
  for (const holder of shards) {
    const writer = writerOf(holder.shard);
    const table = `${quoteId(holder.database)}.${quoteId(index.table)}`;
    await writer.query(`USE ${quoteId(holder.database)}`); // a multi-table DELETE resolves its aliases in the current database
    const [deleted] = await writer.query(`DELETE i FROM ${table} i LEFT JOIN ${scratch(holder.shard)} e ON ${join} WHERE e.${first} IS NULL`) as [ResultSetHeader, unknown];
    const [added] = await writer.query(`INSERT INTO ${table} (${columns}) SELECT ${index.columns.map((c) => `e.${quoteId(c)}`).join(', ')} FROM ${scratch(holder.shard)} e LEFT JOIN ${table} i ON ${join} WHERE i.${first} IS NULL`) as [ResultSetHeader, unknown];
    const [[count]] = (await writer.query({ sql: `SELECT COUNT(*) FROM ${scratch(holder.shard)}`, rowsAsArray: true }))[0] as unknown[][];
    await writer.query(`DROP TEMPORARY TABLE ${scratch(holder.shard)}`);
    repair.dangling += deleted.affectedRows;
    repair.missing += added.affectedRows;
    repair.entries += Number(String(count));
  }
  return repair;
}
