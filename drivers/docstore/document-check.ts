/**
 * Document integrity of a restored Docstore partition, in SQL on its server (the documents never
 * leave it): per document table, the documents that are not valid JSON, whose keys or typed
 * columns differ from the values their document's fields give (layout.ts: each typed column is
 * the field of its name, cast to its type), or that sit on the wrong partition.
 */
import type { ShardConnection } from '../mysql/sharded/derived-index';
import { quoteId } from '../mysql/shared/connection';
import { COLUMN_TYPES, type TableDefinition } from './layout';

export interface DocumentProblems {
  table: string;
  partition: number;
  documents: number;
  invalidJson: number;
  /** Documents whose partition or sort key differs from its field. */
  wrongKeys: number;
  /** Per typed column, the documents whose column differs from its field. */
  wrongColumns: Record<string, number>;
  misplaced: number;
}

const field = (name: string) => `JSON_VALUE(doc, '$.${name}')`;

/** Checks every document of `table` on `partition`. */
export async function checkDocuments(partition: ShardConnection, table: string, definition: TableDefinition, partitionCount: number): Promise<DocumentProblems> {
  const differs = (column: string, value: string) => `SUM(NOT (${column} <=> ${value}))`;
  const columns = definition.columns.map((c) => differs(quoteId(c.name), COLUMN_TYPES[c.type].cast(field(c.name))));
  const sql = `SELECT COUNT(*), SUM(JSON_VALID(doc) = 0),
      SUM(NOT (partition_key <=> CAST(${field(definition.partitionKey)} AS BINARY)) OR NOT (sort_key <=> CAST(${field(definition.sortKey)} AS BINARY))),
      SUM(CRC32(partition_key) % ${partitionCount} <> ${partition.shard})${columns.map((c) => `, ${c}`).join('')}
    FROM ${quoteId(partition.database)}.${quoteId(table)}`;
  const [rows] = await partition.connection.query({ sql, rowsAsArray: true });
  const [documents, invalidJson, wrongKeys, misplaced, ...wrong] = (rows as unknown[][])[0].map((v) => Number(String(v ?? 0)));
  return {
    table,
    partition: partition.shard,
    documents,
    invalidJson,
    wrongKeys,
    wrongColumns: Object.fromEntries(definition.columns.map((c, i) => [c.name, wrong[i]])),
    misplaced,
  };
}
