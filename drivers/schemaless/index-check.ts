/**
 * Schemaless's secondary indexes as derived indexes (drivers/mysql/sharded/derived-index.ts): an
 * entry (index_key, row_key, column_name, ref_key) for each cell of the index's column whose JSON
 * body has the field (not JSON null), on the shard `CRC32(index_key) % N` (layout.ts). The check
 * and the repair are the shared ones: this file says only what an entry is.
 */
import mysql from 'mysql2/promise';
import { checkDerivedIndexes, type DerivedIndex, type IndexCheck, type ShardConnection } from '../mysql/sharded/derived-index';
import { quoteId } from '../mysql/shared/connection';
import type { RawRow } from '../mysql/shared/row-format';

export type { IndexCheck, ShardConnection } from '../mysql/sharded/derived-index';

/** A secondary index as the config names it. */
export interface IndexDefinition {
  table: string;
  column: string;
  field: string;
}

/** The entries of `index` as a derived index over the cells of `cellTable`. */
export function cellIndex(index: IndexDefinition, cellTable: string): DerivedIndex {
  return {
    table: index.table,
    columns: ['index_key', 'row_key', 'column_name', 'ref_key'],
    derived(source, shardCount) {
      // The body is a BLOB: read as UTF-8 JSON (as bytes, JSON functions take it for latin1 and
      // encode a non-ASCII value twice). A field absent or JSON null is not indexed.
      const field = 'JSON_EXTRACT(CONVERT(body USING utf8mb4), ?)';
      return mysql.format(
        `SELECT JSON_UNQUOTE(${field}) AS index_key, row_key, column_name, ref_key, CRC32(JSON_UNQUOTE(${field})) % ? AS entry_shard
         FROM ${quoteId(source.database)}.${quoteId(cellTable)} WHERE column_name = ? AND JSON_TYPE(${field}) <> 'NULL'`,
        [index.field, index.field, shardCount, index.column, index.field],
      );
    },
    // Keys as bytes, the column name as text, ref_key as a decimal (a bytes literal in a number's place would be read as a hex number).
    params: ([indexKey, rowKey, column, refKey]: RawRow) => [Buffer.from(indexKey!), Buffer.from(rowKey!), column!.toString('utf8'), refKey!.toString('latin1')],
  };
}

/** Checks every index of `indexes` over `shards` (all N shards, numbered 0…N-1). */
export function checkIndexes(shards: readonly ShardConnection[], cellTable: string, indexes: readonly IndexDefinition[]): Promise<IndexCheck[]> {
  return checkDerivedIndexes(shards, indexes.map((index) => cellIndex(index, cellTable)));
}
