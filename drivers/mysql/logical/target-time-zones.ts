/**
 * The named time zones a logical restore's post-schema sets (an event keeps the zone it was
 * created in: `SET SESSION time_zone = 'Europe/Berlin'` before its CREATE EVENT), checked on the
 * target before anything is written: a server without time-zone tables knows none, and the
 * restore would fail on that statement only once every row is loaded.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { nameSome } from '../../../core/name-some';
import { ENGINE } from '../shared/layout';

/** `SET SESSION time_zone = '<zone>'` as schema-capture.ts writes it. */
const SET_TIME_ZONE = /^SET SESSION time_zone = '((?:[^'\\]|''|\\.)*)'$/;
/** Zones every server knows without its time-zone tables: an offset, or its own. */
const ALWAYS_KNOWN = /^(?:[+-]\d{1,2}:\d{2}|SYSTEM)$/i;

/** The named zones `statements` set, each once. */
export function namedTimeZones(statements: readonly string[]): string[] {
  const zones = new Set<string>();
  for (const statement of statements) {
    const zone = SET_TIME_ZONE.exec(statement.trim())?.[1].replace(/''/g, "'").replace(/\\(.)/g, '$1');
    if (zone !== undefined && !ALWAYS_KNOWN.test(zone)) zones.add(zone);
  }
  return [...zones];
}

/**
 * Refuses a restore whose `statements` set a time zone the target does not know (`CONVERT_TZ`
 * gives NULL for one it cannot find).
 * @throws PermanentError `UNSUPPORTED_RESTORE` naming the zones
 */
export async function assertTargetTimeZones(connection: Connection, statements: readonly string[], where: string): Promise<void> {
  const unknown: string[] = [];
  for (const zone of namedTimeZones(statements)) {
    const [[row]] = await connection.query({ sql: "SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', ?)", values: [zone], rowsAsArray: true }) as [unknown[][], unknown];
    if (row[0] === null) unknown.push(zone);
  }
  if (unknown.length === 0) return;
  throw new PermanentError(
    `${where}: the target does not know the time zone${unknown.length > 1 ? 's' : ''} ${nameSome(unknown)}, which the backup's events were created in; load its time-zone tables (mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql) and restore again. Nothing was changed on the target`,
    { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
  );
}
