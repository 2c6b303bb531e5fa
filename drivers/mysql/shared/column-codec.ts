/**
 * How each column's stored value travels through a logical dump exactly: the expression the dump
 * (and every digest) reads, and how `LOAD DATA ... CHARACTER SET binary` stores it back.
 *
 * Most types round-trip as the raw bytes the text protocol sends. The exceptions, and why:
 *
 * | type | read as | loaded by | because |
 * |---|---|---|---|
 * | FLOAT, DOUBLE, REAL | `col * 1e0` | the column | the server prints FLOAT with 6 digits and `DOUBLE(M,D)` with D decimals; as a DOUBLE expression it prints the shortest text that parses back to the same bits (a FLOAT widens to DOUBLE exactly; `* 1e0` keeps -0) |
 * | ENUM, SET | `CAST(col AS UNSIGNED)` (index, bitmask; `col + 0` is signed: a 64-member SET's top bit printed negative) | `CAST(@v AS UNSIGNED)` | the text of the error value `''` (index 0) equals an `''` member's, a SET's `''` member prints as nothing, and LOAD DATA looks a number-like text up as a member name first |
 * | UUID, INET4, INET6 (MariaDB), JSON (MySQL) | the column | `CONVERT(@v USING utf8mb4)` | these types read a binary-charset string as their binary form (`Incorrect uuid value`) or refuse it (MySQL JSON) |
 *
 * The index of an ENUM error value can only be stored with a warning (`Data truncated`, the way the
 * source got it): {@link isExpectedLoadWarning} tells the loader so; the digest then proves the value.
 */
import { quoteId } from './connection';

/** A dumped column: its name and what it needs to round-trip. */
export interface ColumnInfo {
  name: string;
  /** Computed by the server (VIRTUAL / STORED / PERSISTENT): never loaded. */
  generated: boolean;
  /** information_schema DATA_TYPE, lower case (`float`, `enum`, `uuid`, ...). */
  type: string;
}

/**
 * How the values of a backup's chunk files are encoded. `exact` (this file's table) is what every
 * backup records now; `server-text` (no `valueEncoding` in the facts) is an older backup's: every
 * column as the server printed it.
 */
export type ValueEncoding = 'exact' | 'server-text';

export const VALUE_ENCODING: ValueEncoding = 'exact';

const FLOATING = new Set(['float', 'double', 'real', 'double precision']);
const INDEXED = new Set(['enum', 'set']);
/** Types that take a binary-charset string as their binary form, not their text. */
const TEXT_ONLY = new Set(['uuid', 'inet4', 'inet6', 'json']);

/** The expression a dump and a digest read for `column`. */
export function readExpression(column: ColumnInfo, encoding: ValueEncoding = VALUE_ENCODING): string {
  const name = quoteId(column.name);
  if (encoding === 'server-text') return name;
  if (FLOATING.has(column.type)) return `(${name} * 1e0)`;
  if (INDEXED.has(column.type)) return `CAST(${name} AS UNSIGNED)`;
  return name;
}

/** The `SELECT` list of a table's dumped columns. */
export function selectList(columns: ColumnInfo[], encoding: ValueEncoding = VALUE_ENCODING): string {
  return columns.map((c) => readExpression(c, encoding)).join(', ');
}

/** Variable that receives (and discards) the dumped value of a generated column. */
const SKIP = '@dbbackup_generated';

/**
 * The `LOAD DATA` clauses after the format: the column list in dump order, and the `SET` clause
 * for columns stored through a conversion (empty when none is).
 */
export function loadColumns(columns: ColumnInfo[], encoding: ValueEncoding = VALUE_ENCODING): string {
  const items: string[] = [];
  const assignments: string[] = [];
  columns.forEach((column, index) => {
    if (column.generated) {
      items.push(SKIP);
      return;
    }
    const conversion = INDEXED.has(column.type) && encoding === 'exact' ? 'CAST(@v AS UNSIGNED)'
      : TEXT_ONLY.has(column.type) ? 'CONVERT(@v USING utf8mb4)' : undefined;
    if (conversion === undefined) {
      items.push(quoteId(column.name));
      return;
    }
    const variable = `@dbbackup_c${index}`;
    items.push(variable);
    assignments.push(`${quoteId(column.name)} = ${conversion.replace('@v', variable)}`);
  });
  return `(${items.join(', ')})${assignments.length > 0 ? ` SET ${assignments.join(', ')}` : ''}`;
}

/** The server's `Data truncated for column '<name>' at row <n>` warning code. */
const DATA_TRUNCATED = 1265;
/** The server's `Out of range value for column '<name>' at row <n>` warning code. */
const OUT_OF_RANGE = 1264;
const COLUMN_WARNING = /^(?:Data truncated|Out of range value) for column '(.*)' at row \d+$/s;

/**
 * True when a load warning says nothing of the values loaded: `Data truncated` on an ENUM column
 * (storing its error value gives it), or either warning on a generated column — the server
 * computing it, as the source's did when it stored the row (a source in a lax SQL mode may have
 * stored a cut value); the digest read back proves what it stored. Any other warning means the
 * server changed or skipped a value.
 */
export function isExpectedLoadWarning(warning: { code: number; message: string }, columns: ColumnInfo[], encoding: ValueEncoding = VALUE_ENCODING): boolean {
  if (encoding !== 'exact' || (warning.code !== DATA_TRUNCATED && warning.code !== OUT_OF_RANGE)) return false;
  const name = COLUMN_WARNING.exec(warning.message)?.[1];
  const column = columns.find((c) => c.name === name);
  if (!column) return false;
  return column.generated || (warning.code === DATA_TRUNCATED && column.type === 'enum');
}
