/**
 * How a retried restore recognises its own unfinished work, so that it may drop it and start again
 * without `--force`, while data it did not write is never dropped.
 *
 * The rule: `restoreLogical` drops a target database only when
 * 1. it holds nothing (no tables, views, routines, events), or
 * 2. the operator passed `--force`, or
 * 3. it holds the marker table of THIS restore (same restore token, chosen by `prepareTarget` and
 *    carried in the prepared target), or this host's spool records that this restore created it.
 *
 * The marker table is created right after `CREATE DATABASE`, before any other table, and dropped
 * as the very last step of a successful restore. A database with a marker from another restore
 * (an earlier, abandoned run) counts as non-empty: replacing it needs `--force`.
 * The spool record covers the short window at the end where markers are being removed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { quoteId } from '../shared/connection';
import { ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE, errnoOf } from '../shared/errors';
import { ENGINE } from '../shared/layout';
import { PermanentError } from '../../../core/errors';

/** Name of the marker table inside a database being restored. */
export const MARKER_TABLE = '__dbbackup_restore_in_progress';

/**
 * Why a backup of `engine` refuses `databases`: they hold the {@link MARKER_TABLE} of a restore
 * that did not finish, so they hold part of `whole` (what a finished restore makes of them).
 */
export function unfinishedRestoreRefused(engine: string, databases: readonly string[], whole: string): PermanentError {
  const one = databases.length === 1;
  const they = one ? 'it' : 'them';
  return new PermanentError(
    `${engine === ENGINE ? '' : `${engine} `}${one ? 'database' : 'databases'} ${databases.join(', ')} ${one ? 'holds' : 'hold'} table ${MARKER_TABLE}: a restore into ${they} did not finish, so ${one ? 'it holds' : 'they hold'} part of ${whole}, not all of it; finish or redo that restore (or drop the table, knowing what ${one ? 'it holds' : 'they hold'}) before backing ${they} up`,
    { code: `${engine.toUpperCase()}_UNFINISHED_RESTORE`, engine },
  );
}

const SPOOL_RECORD = 'restore-state.json';

/** A new token identifying one restore (from prepare to the end of every retry of its restore step). */
export function newRestoreToken(): string {
  return randomUUID();
}

/**
 * Creates the marker in `database` (which must exist and be empty) — or, `replacing`, makes the one
 * there (an earlier attempt's) this restore's, the table never absent meanwhile.
 */
export async function writeMarker(connection: Connection, database: string, token: string, backupId: string, options: { replacing?: boolean } = {}): Promise<void> {
  const table = `${quoteId(database)}.${quoteId(MARKER_TABLE)}`;
  await connection.query(`CREATE TABLE ${options.replacing ? 'IF NOT EXISTS ' : ''}${table} (token VARCHAR(64) NOT NULL PRIMARY KEY, backup_id VARCHAR(255) NOT NULL, started_at DATETIME NOT NULL)`);
  if (options.replacing) await connection.query(`DELETE FROM ${table}`);
  await connection.query(`INSERT INTO ${table} VALUES (?, ?, UTC_TIMESTAMP())`, [token, backupId]);
}

/** The token of the marker in `database`, or undefined when there is none. */
export async function readMarker(connection: Connection, database: string): Promise<string | undefined> {
  try {
    const [rows] = await connection.query(`SELECT token FROM ${quoteId(database)}.${quoteId(MARKER_TABLE)} LIMIT 1`) as [Array<{ token: string | Buffer }>, unknown];
    return rows.length > 0 ? String(rows[0].token) : undefined;
  } catch (error) {
    if (errnoOf(error) === ER_NO_SUCH_TABLE || errnoOf(error) === ER_BAD_DB_ERROR) return undefined;
    throw error;
  }
}

/** Removes the marker: the database is now a finished restore. */
export async function removeMarker(connection: Connection, database: string): Promise<void> {
  await connection.query(`DROP TABLE IF EXISTS ${quoteId(database)}.${quoteId(MARKER_TABLE)}`);
}

interface SpoolRecord {
  token: string;
  created: string[];
}

/** Databases this restore (same token) recorded as created on this host, from its spool. */
export async function createdBySpool(spoolDir: string, token: string): Promise<Set<string>> {
  try {
    const record = JSON.parse(await readFile(path.join(spoolDir, SPOOL_RECORD), 'utf8')) as SpoolRecord;
    return new Set(record.token === token ? record.created : []);
  } catch {
    return new Set();
  }
}

/** Records in the spool that this restore created `database`. */
export async function recordCreated(spoolDir: string, token: string, database: string): Promise<void> {
  const created = await createdBySpool(spoolDir, token);
  created.add(database);
  await mkdir(spoolDir, { recursive: true });
  await writeFile(path.join(spoolDir, SPOOL_RECORD), JSON.stringify({ token, created: [...created] } satisfies SpoolRecord));
}
