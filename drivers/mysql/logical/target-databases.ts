/**
 * The databases a logical restore writes: each backed-up database under its target name
 * (`renameDatabases`), and what the target server already holds under those names.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { ENGINE, isSystemDatabase, type MysqlFacts } from '../shared/layout';
import { MARKER_TABLE } from './restore-marker';

/** One backed-up database and the name it gets on the target. */
export interface DatabaseMapping {
  source: string;
  target: string;
}

/** Databases a restore must never write into. */

/**
 * Maps every database of the backup to its target name.
 * @throws PermanentError `INVALID_INPUT` when a rename names a database the backup does not hold,
 *   two databases would land on one name, or a target name is a system database.
 */
export function mapDatabases(facts: Pick<MysqlFacts, 'databases'>, renames: Readonly<Record<string, string>>): DatabaseMapping[] {
  const unknown = Object.keys(renames).filter((name) => !facts.databases.includes(name));
  if (unknown.length > 0) {
    throw new PermanentError(
      `renameDatabases names ${unknown.join(', ')}, which the backup does not hold (it holds: ${facts.databases.join(', ') || 'nothing'})`,
      { code: 'INVALID_INPUT', engine: ENGINE },
    );
  }
  const mappings = facts.databases.map((source) => ({ source, target: Object.hasOwn(renames, source) ? renames[source] : source }));
  const seen = new Map<string, string>();
  for (const { source, target } of mappings) {
    const key = target.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) {
      throw new PermanentError(`databases ${other} and ${source} would both be restored as ${target}; fix renameDatabases`, { code: 'INVALID_INPUT', engine: ENGINE });
    }
    seen.set(key, source);
    if (isSystemDatabase(key)) {
      throw new PermanentError(`refusing to restore database ${source} as the system database ${target}`, { code: 'INVALID_INPUT', engine: ENGINE });
    }
  }
  return mappings;
}

/** The renames that change a name (source → target), for rewriting schema statements. */
export function effectiveRenames(mappings: DatabaseMapping[]): Record<string, string> {
  const renames: Record<string, string> = {};
  for (const { source, target } of mappings) if (source !== target) renames[source] = target;
  return renames;
}

/** What the target holds under one database name. */
export interface DatabaseState {
  name: string;
  exists: boolean;
  /** Base tables, not counting a restore marker. */
  tables: number;
  views: number;
  routines: number;
  events: number;
  /** True when the database holds a restore marker (an unfinished restore's work). */
  marked: boolean;
}

/** True when dropping the database would lose something (tables, views, routines or events). */
export function holdsObjects(state: DatabaseState): boolean {
  return state.tables + state.views + state.routines + state.events > 0;
}

/** One line per database for messages: `shop (3 tables, 1 view)`. */
export function describeState(state: DatabaseState): string {
  const parts = ([['table', state.tables], ['view', state.views], ['routine', state.routines], ['event', state.events]] as const)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what}${n === 1 ? '' : 's'}`);
  if (state.marked) parts.push('an unfinished restore');
  return `${state.name} (${parts.join(', ') || 'empty'})`;
}

type CountRow = { db: string; kind: string; n: number | string };

/** Reads what the target holds under each of `names` (one round trip per catalog table). */
export async function inspectDatabases(connection: Connection, names: string[]): Promise<DatabaseState[]> {
  if (names.length === 0) return [];
  const [schemata] = await connection.query('SELECT SCHEMA_NAME AS db FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)', [names]) as [Array<{ db: string }>, unknown];
  const [counts] = await connection.query(`
    SELECT TABLE_SCHEMA AS db, IF(TABLE_TYPE = 'VIEW', 'view', IF(TABLE_NAME = ?, 'marker', 'table')) AS kind, COUNT(*) AS n
      FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) GROUP BY 1, 2
    UNION ALL SELECT ROUTINE_SCHEMA, 'routine', COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (?) GROUP BY 1
    UNION ALL SELECT EVENT_SCHEMA, 'event', COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (?) GROUP BY 1`,
  [MARKER_TABLE, names, names, names]) as [CountRow[], unknown];
  const existing = new Set(schemata.map((row) => row.db));
  return names.map((name) => {
    const count = (kind: string) => Number(counts.find((row) => row.db === name && row.kind === kind)?.n ?? 0);
    return {
      name,
      exists: existing.has(name),
      tables: count('table'),
      views: count('view'),
      routines: count('routine'),
      events: count('event'),
      marked: count('marker') > 0,
    };
  });
}
