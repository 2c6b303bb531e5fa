/**
 * Looking names up in information_schema exactly. Its collation (utf8 general) finds `Plain` equal
 * to `plain` and `cafe` equal to `café`, which a server with `lower_case_table_names = 0` keeps as
 * two databases (or tables). Measured on MariaDB 10.11, with databases `Plain` and `plain`:
 * - `TRIGGER_SCHEMA = 'plain'` (and `EVENT_SCHEMA`) lists both databases' objects;
 * - `TABLE_SCHEMA IN ('Plain', 'plain')` (and COLUMNS, VIEWS, ROUTINES, SCHEMATA) lists one of the
 *   two databases only: the server looks the list up as if it were one name;
 * - `X = 'plain' AND BINARY X = 'plain'` lists exactly `plain`'s, everywhere.
 * So a name is compared both ways ({@link isExactly}: the plain comparison lets the server open
 * only that database's directory), and several names are looked up one at a time ({@link eachName}).
 */
import type { Connection } from 'mysql2/promise';

/** `column` is exactly the name given (twice: to its two placeholders). */
export const isExactly = (column: string): string => `(${column} = ? AND BINARY ${column} = ?)`;

/**
 * The rows `sql` returns for each of `names` in turn (each one looked up alone, {@link isExactly}),
 * together: `params` gives each query's values (by default the name twice, for one `isExactly`).
 */
export async function eachName<R>(connection: Connection, names: readonly string[], sql: string, params: (name: string) => unknown[] = (name) => [name, name]): Promise<R[]> {
  const rows: R[] = [];
  for (const name of names) rows.push(...(await connection.query(sql, params(name)) as [R[], unknown])[0]);
  return rows;
}

/** Each connection's answer: the setting is read-only (fixed when the server starts), so it is asked once per connection. */
const asked = new WeakMap<Connection, Promise<number>>();

/**
 * The server's `lower_case_table_names`: 0 keeps names as written, 1 stores them in lower case, 2
 * keeps them but compares them in lower case. Asked once per connection (a table digest per table
 * would otherwise ask it each time).
 */
export function lowerCaseTableNames(connection: Connection): Promise<number> {
  let answer = asked.get(connection);
  if (!answer) {
    answer = connection.query('SELECT @@lower_case_table_names AS folding').then(([rows]) => Number((rows as Array<{ folding: number | string }>)[0].folding));
    answer.catch(() => asked.delete(connection)); // a failed query is asked again next time
    asked.set(connection, answer);
  }
  return answer;
}

/**
 * How the server names a database, table or view once created, as information_schema lists it:
 * as written, or in lower case where it stores names so (`lower_case_table_names` = 1).
 */
export async function storedTableName(connection: Connection): Promise<(name: string) => string> {
  return (await lowerCaseTableNames(connection)) === 1 ? (name) => name.toLowerCase() : (name) => name;
}
