/**
 * The reference layout of a Docstore instance, the one this driver backs up (names are
 * configuration; map a store onto it in the config). An instance is P partitions, each a database
 * on a MySQL server, each holding:
 *
 * - the schema table: one row per document table, its definition as JSON (the same rows on every
 *   partition): partition key, sort key, typed columns and secondary indexes;
 * - one table per described table: a document's partition key and sort key (its primary key), the
 *   JSON document, and the typed columns — values derived from the document's fields of the same
 *   name, kept as columns for queries;
 * - one table per secondary index: entries (index_key → partition_key, sort_key), each on the
 *   partition of its index key, so an entry and its document are often on different partitions.
 *
 * Placement: a document lives on partition `CRC32(partition_key) % P`, an index entry on
 * `CRC32(index_key) % P` (MySQL's CRC32, zlib's: computable in SQL and here alike).
 */
import { z } from 'zod';
import { quoteId } from '../mysql/shared/connection';

/** The SQL types a typed column may have, and how a document's field becomes one. */
export const COLUMN_TYPES = {
  string: { sql: 'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', cast: (value: string) => value },
  // A field read as the number it is (JSON's 1e3 is 1000), exactly: one with a fraction is no integer.
  integer: { sql: 'BIGINT', cast: (value: string) => `CAST(${value} AS DECIMAL(65,30))` },
  decimal: { sql: 'DECIMAL(18,4)', cast: (value: string) => `CAST(${value} AS DECIMAL(18,4))` },
} as const;

const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a field name: letters, digits, _');

/** A document table's definition, as the schema table holds it. */
export const tableDefinitionSchema = z.object({
  /** The document field whose value is the partition key (placement: CRC32 of it). */
  partitionKey: fieldName,
  /** The document field whose value is the sort key. */
  sortKey: fieldName,
  /** Typed columns: each the value of the document's field of the same name. */
  columns: z.array(z.object({ name: fieldName, type: z.enum(['string', 'integer', 'decimal']) })).default([]),
  /** Secondary indexes: entries keyed by a typed column's value. */
  indexes: z.array(z.object({ table: fieldName, column: fieldName })).default([]),
});
export type TableDefinition = z.infer<typeof tableDefinitionSchema>;

/** The schema table. */
export function schemaTableDdl(table: string): string {
  return `CREATE TABLE ${quoteId(table)} (
  table_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
  definition JSON NOT NULL
) ENGINE=InnoDB`;
}

/** A document table of `definition`. */
export function documentTableDdl(table: string, definition: TableDefinition): string {
  const columns = definition.columns.map((c) => `  ${quoteId(c.name)} ${COLUMN_TYPES[c.type].sql} NULL,\n`).join('');
  return `CREATE TABLE ${quoteId(table)} (
  partition_key VARBINARY(255) NOT NULL,
  sort_key VARBINARY(255) NOT NULL,
  doc JSON NOT NULL,
${columns}  PRIMARY KEY (partition_key, sort_key)
) ENGINE=InnoDB`;
}

/** A secondary index's table. */
export function indexTableDdl(table: string): string {
  return `CREATE TABLE ${quoteId(table)} (
  index_key VARBINARY(255) NOT NULL,
  partition_key VARBINARY(255) NOT NULL,
  sort_key VARBINARY(255) NOT NULL,
  PRIMARY KEY (index_key, partition_key, sort_key)
) ENGINE=InnoDB`;
}
