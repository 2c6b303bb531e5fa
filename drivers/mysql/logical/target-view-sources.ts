/**
 * The tables of other databases a logical restore's views read, checked on the target before
 * anything is written. A view is created only once every row is loaded (post-schema), and the
 * server refuses one whose table does not exist: a view reading a database the restore does not
 * bring (a backup of `reports` whose view reads `sales.orders`) failed the restore after the load,
 * the target left half written. `SHOW CREATE VIEW` qualifies every table it reads (`` from `db`.`t` ``),
 * so those of databases outside the restore are named, and each must exist on the target.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { nameSome } from '../../../core/name-some';
import { definedObject, unquote } from '../shared/schema-objects';
import { ENGINE } from '../shared/layout';

/** A table a view's FROM or JOIN names, qualified (`` `db`.`t` ``, possibly after opening parentheses). */
const READ_TABLE = /\b(?:from|join|straight_join)\s+\(*\s*(`(?:[^`]|``)+`)\.(`(?:[^`]|``)+`)/gi;

/** The `db.table` each view of `statements` reads in a database not among `restored` (source names). */
export function viewSourcesOutside(statements: readonly string[], restored: ReadonlySet<string>): Array<{ view: string; database: string; table: string }> {
  const found: Array<{ view: string; database: string; table: string }> = [];
  for (const statement of statements) {
    const defined = definedObject(statement);
    if (defined?.kind !== 'view') continue;
    for (const [, database, table] of statement.matchAll(READ_TABLE)) {
      const db = unquote(database);
      if (!restored.has(db)) found.push({ view: defined.name, database: db, table: unquote(table) });
    }
  }
  return found;
}

/**
 * Refuses a restore whose views read tables of databases it does not bring that the target lacks.
 * @throws PermanentError `UNSUPPORTED_RESTORE` naming each view and the table it needs
 */
export async function assertViewSourcesExist(connection: Connection, statements: readonly string[], restored: ReadonlySet<string>, target: string): Promise<void> {
  const missing: string[] = [];
  for (const { view, database, table } of viewSourcesOutside(statements, restored)) {
    const [rows] = await connection.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, table]) as [unknown[], unknown];
    if (rows.length === 0) missing.push(`view ${view} reads ${database}.${table}`);
  }
  if (missing.length === 0) return;
  throw new PermanentError(
    `restore target ${target} lacks what the backup's views read outside the databases restored: ${nameSome([...new Set(missing)])}; create those tables there (or restore their databases too) and restore again. Nothing was changed on the target`,
    { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
  );
}
