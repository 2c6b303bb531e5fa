/**
 * How a statement's text reads under the SQL mode it runs in: whether `"…"` is a name
 * (`ANSI_QUOTES`) and whether a backslash escapes in a string literal (not under
 * `NO_BACKSLASH_ESCAPES`). The binlog tool prints a session's mode as a number; `SET sql_mode` and
 * the catalog write it as names.
 */

/** How the session that ran a statement read it (its `sql_mode` bits that change tokens). */
export interface StatementMode {
  ansiQuotes?: boolean;
  noBackslashEscapes?: boolean;
}

/** The `sql_mode` bits of {@link StatementMode}, as the binlog tool prints the mode (a number). */
export function statementMode(sqlMode: number): StatementMode {
  return { ansiQuotes: (sqlMode & 4) !== 0, noBackslashEscapes: (sqlMode & 0x100000) !== 0 };
}

/** The combination modes that include ANSI_QUOTES (the server lists their parts too, but a statement may name only the combination). */
const ANSI_QUOTING_MODES = new Set(['ANSI_QUOTES', 'ANSI', 'DB2', 'MAXDB', 'MSSQL', 'ORACLE', 'POSTGRESQL']);

/** {@link StatementMode} of an `sql_mode` written as names (`'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'`, as `SET sql_mode` and the catalog write it). */
export function statementModeNamed(sqlMode: string): StatementMode {
  const names = sqlMode.toUpperCase().split(',').map((name) => name.trim());
  return { ansiQuotes: names.some((name) => ANSI_QUOTING_MODES.has(name)), noBackslashEscapes: names.includes('NO_BACKSLASH_ESCAPES') };
}
