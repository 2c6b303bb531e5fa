/**
 * Docstore's secondary indexes as derived indexes (drivers/mysql/sharded/derived-index.ts): an
 * entry (index_key, partition_key, sort_key) for each document whose indexed typed column is not
 * NULL, the column's value as the key (when it fits the index's key column), on the partition `CRC32(index_key) % P` (layout.ts). The
 * check and the repair are the shared ones: this file says only what an entry is.
 */
import type { DerivedIndex } from '../mysql/sharded/derived-index';
import { quoteId } from '../mysql/shared/connection';
import type { TableDefinition } from './layout';

/** Every index of every document table, as derived indexes. */
export function documentIndexes(definitions: Record<string, TableDefinition>): DerivedIndex[] {
  return Object.entries(definitions).flatMap(([table, definition]) => definition.indexes.map((index): DerivedIndex => ({
    table: index.table,
    columns: ['index_key', 'partition_key', 'sort_key'],
    derived(database) {
      const key = `CAST(CAST(${quoteId(index.column)} AS CHAR) AS BINARY)`;
      return `SELECT ${key} AS index_key, partition_key, sort_key FROM ${quoteId(database)}.${quoteId(table)} WHERE ${quoteId(index.column)} IS NOT NULL`;
    },
    params: (entry) => entry.map((value) => Buffer.from(value!)),
  })));
}
