/**
 * Definers a logical restore's objects name that the target has no account for. The server
 * creates such a view, trigger, routine or event with a note, not an error, and using it then
 * fails (`ERROR 1449: The user specified as a definer does not exist`) — every insert into a table
 * with such a trigger. Restoring without the backup's accounts (`includeUsers`) onto another
 * server is where this happens, so the restore says so, before it writes anything.
 */
import type { Connection } from 'mysql2/promise';
import type { Logger } from '../../../core/logger';
import { describeAccount, type Account } from '../shared/account';
import { definersOf } from '../shared/schema-objects';

/**
 * The definers of `statements` the target lists no account (or role) for; undefined when it cannot
 * tell (the restoring user may not read `mysql.user`).
 */
export async function absentDefiners(connection: Connection, statements: readonly string[]): Promise<Account[] | undefined> {
  const absent: Account[] = [];
  for (const definer of definersOf(statements)) {
    try {
      const [rows] = await connection.query('SELECT 1 FROM mysql.user WHERE User = ? AND LOWER(Host) = LOWER(?)', [definer.user, definer.host ?? '']) as [unknown[], unknown];
      if (rows.length === 0) absent.push(definer);
    } catch {
      return undefined;
    }
  }
  return absent;
}

/** Warns of the definers of `statements` that have no account on the target (unless the restore creates the backup's accounts). */
export async function warnOfAbsentDefiners(connection: Connection, statements: readonly string[], createsAccounts: boolean, logger: Logger): Promise<void> {
  if (createsAccounts) return;
  const absent = await absentDefiners(connection, statements);
  if (!absent || absent.length === 0) return;
  logger.warn('mysql restore: objects whose definer has no account on the target are created, but each fails when used (ERROR 1449) until the account exists: create it, or restore a backup taken with includeUsers', {
    definers: absent.map(describeAccount),
  });
}
