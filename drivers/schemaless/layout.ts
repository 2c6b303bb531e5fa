/**
 * The reference layout of a Schemaless instance, the one this driver backs up (map a store onto it
 * in the config: names of databases and tables are configuration). An instance is N shards, each a
 * database on one of M MySQL servers, each holding:
 *
 * - the cell table: append-only cells, `added_id` their order of arrival;
 * - one table per secondary index: entries (index_key → the cell's row_key, column_name, ref_key),
 *   kept on the shard of the index key, so an entry and its cell are often on different shards;
 * - optionally a buffered-writes table: cells a master accepted for a shard it does not hold yet.
 *
 * Placement: a cell lives on shard `CRC32(row_key) % N`, an index entry on `CRC32(index_key) % N`
 * (MySQL's CRC32, zlib's: computable in SQL and here alike).
 */
import { quoteId } from '../mysql/shared/connection';

/** The shard of a cell (by its row key) or of an index entry (by its index key). */
export { shardOf } from '../mysql/sharded/shard-map';

/** The cell table, as the reference layout defines it. */
export function cellTableDdl(table: string): string {
  return `CREATE TABLE ${quoteId(table)} (
  added_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  row_key BINARY(16) NOT NULL,
  column_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ref_key BIGINT NOT NULL,
  body MEDIUMBLOB NOT NULL,
  created_at DATETIME NOT NULL,
  UNIQUE KEY cell_key (row_key, column_name, ref_key)
) ENGINE=InnoDB`;
}

/** A secondary index's table. */
export function indexTableDdl(table: string): string {
  return `CREATE TABLE ${quoteId(table)} (
  index_key VARBINARY(255) NOT NULL,
  row_key BINARY(16) NOT NULL,
  column_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ref_key BIGINT NOT NULL,
  PRIMARY KEY (index_key, row_key, column_name, ref_key)
) ENGINE=InnoDB`;
}

/** The buffered-writes table: a cell accepted for `shard` before that shard had it. */
export function bufferedWritesTableDdl(table: string): string {
  return `CREATE TABLE ${quoteId(table)} (
  buffered_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  shard INT NOT NULL,
  row_key BINARY(16) NOT NULL,
  column_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  ref_key BIGINT NOT NULL,
  body MEDIUMBLOB NOT NULL,
  created_at DATETIME NOT NULL
) ENGINE=InnoDB`;
}
