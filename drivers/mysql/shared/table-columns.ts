/**
 * The columns a logical backup reads and writes, per table: every column in ordinal order,
 * INVISIBLE ones included (`SELECT *` leaves them out, so the dump names its columns), except a
 * system-versioned table's ROW START / ROW END columns, which the server sets itself on insert.
 * Generated columns are dumped (their values are part of the digest, proving the restored server
 * recomputes them identically) and discarded on load. How each is read and loaded: column-codec.ts.
 */
import type { Connection } from 'mysql2/promise';
import type { ColumnInfo } from './column-codec';
import { eachName, isExactly } from './exact-names';
import { catalogText } from './catalog-text';

export type { ColumnInfo } from './column-codec';

/** Key of a table in per-table maps. */
export function tableKey(database: string, table: string): string {
  return `${database}\u0000${table}`;
}

type Row = Record<string, unknown>;

/** Whether a column as information_schema describes it is generated, or set by system versioning. */
export function classifyColumn(extra: string, generationExpression: string): 'data' | 'generated' | 'versioning' {
  if (/^ROW (START|END)$/i.test(generationExpression.trim())) return 'versioning';
  return /\b(VIRTUAL|STORED|PERSISTENT)\b/i.test(extra) && !/DEFAULT_GENERATED/i.test(extra) ? 'generated' : 'data';
}

/**
 * The dumped columns of every table in `databases` (or only `table`), keyed by {@link tableKey}.
 * Works on text and on data connections (binary results).
 */
export async function tableColumns(connection: Connection, databases: string[], table?: string): Promise<Map<string, ColumnInfo[]>> {
  const columns = new Map<string, ColumnInfo[]>();
  if (databases.length === 0) return columns;
  const rows = await eachName<Row>(connection, databases,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS col, DATA_TYPE AS type, EXTRA AS extra, GENERATION_EXPRESSION AS expr
       FROM information_schema.COLUMNS WHERE ${isExactly('TABLE_SCHEMA')}${table === undefined ? '' : ` AND ${isExactly('TABLE_NAME')}`}
      ORDER BY TABLE_NAME, ORDINAL_POSITION`, (database) => (table === undefined ? [database, database] : [database, database, table, table]));
  for (const row of rows) {
    const kind = classifyColumn(catalogText(row.extra), catalogText(row.expr));
    if (kind === 'versioning') continue;
    const key = tableKey(catalogText(row.db), catalogText(row.tbl));
    columns.set(key, [...(columns.get(key) ?? []), { name: catalogText(row.col), generated: kind === 'generated', type: catalogText(row.type).toLowerCase() }]);
  }
  return columns;
}
