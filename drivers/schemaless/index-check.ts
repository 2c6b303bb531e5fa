/**
 * Schemaless's secondary indexes as derived indexes (drivers/mysql/sharded/derived-index.ts): an
 * entry (index_key, row_key, column_name, ref_key) for each cell of the index's column whose JSON
 * body has the field (not JSON null) and whose key fits the index's key column, on the shard `CRC32(index_key) % N` (layout.ts). The check
 * and the repair are the shared ones: this file says only what an entry is.
 */
import { format } from 'mysql2/promise';
import { checkDerivedIndexes, type DerivedIndex, type IndexCheck } from '../mysql/sharded/derived-index';
import type { LaneOptions } from '../mysql/sharded/shard-lanes';
import type { ShardMap } from '../mysql/sharded/target-shards';
import { quoteId } from '../mysql/shared/connection';
import type { RawRow } from '../mysql/shared/row-format';

export type { IndexCheck } from '../mysql/sharded/derived-index';

/** A secondary index as the config names it. */
export interface IndexDefinition {
  table: string;
  column: string;
  field: string;
}

/**
 * The index key of a cell's body, NULL when the field is absent or JSON null: the field as
 * `JSON_UNQUOTE(JSON_EXTRACT(body, field))` gives it. The body is a BLOB: read as UTF-8 JSON (as
 * bytes, JSON functions take it for latin1 and encode a non-ASCII value twice).
 *
 * JSON_EXTRACT parses the whole body; JSON_VALUE stops at the field, several times cheaper, so it
 * decides first: when it finds a value, the field is not JSON null (JSON_VALUE returns the first
 * match, NULL for a JSON null), and JSON_EXTRACT is evaluated once for the key. JSON_VALUE alone
 * would differ: it gives `1` for `true`, NULL for an object or array (or an object first, the
 * scalar of a later duplicate key), and a value before the point where an invalid body breaks.
 * Only where it finds nothing (absent, JSON null, object, array, invalid) does JSON_TYPE run too.
 * Tested against the three-call form on bodies of every kind (index-check.test.ts).
 */
export function indexKeyExpression(field: string): string {
  const body = 'CONVERT(body USING utf8mb4)';
  const extracted = format(`JSON_EXTRACT(${body}, ?)`, [field]);
  return `IF(${format(`JSON_VALUE(${body}, ?)`, [field])} IS NULL AND JSON_TYPE(${extracted}) <=> 'NULL', NULL, JSON_UNQUOTE(${extracted}))`;
}

/** The entries of `index` as a derived index over the cells of `cellTable`. */
export function cellIndex(index: IndexDefinition, cellTable: string): DerivedIndex {
  return {
    table: index.table,
    columns: ['index_key', 'row_key', 'column_name', 'ref_key'],
    derived(database) {
      // A cell without the field has a NULL key: no entry (skipped as it arrives, not filtered here, which would evaluate the key twice).
      return format(`SELECT ${indexKeyExpression(index.field)} AS index_key, row_key, column_name, ref_key FROM ${quoteId(database)}.${quoteId(cellTable)} WHERE column_name = ?`, [index.column]);
    },
    // Keys as bytes, the column name as text, ref_key as a decimal (a bytes literal in a number's place would be read as a hex number).
    params: ([indexKey, rowKey, column, refKey]: RawRow) => [Buffer.from(indexKey!), Buffer.from(rowKey!), column!.toString('utf8'), refKey!.toString('latin1')],
  };
}

/** Checks every index of `indexes` over the shards of `target` (all N, numbered 0…N-1). */
export function checkIndexes(target: ShardMap, cellTable: string, indexes: readonly IndexDefinition[], lanes: LaneOptions = {}): Promise<IndexCheck[]> {
  return checkDerivedIndexes(target, indexes.map((index) => cellIndex(index, cellTable)), lanes);
}
