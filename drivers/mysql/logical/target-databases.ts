/**
 * The databases a logical restore writes: each backed-up database under its target name
 * (`renameDatabases`), and what the target server already holds under those names.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { ENGINE, isSystemDatabase, type MysqlFacts } from '../shared/layout';
import { isExactly, lowerCaseTableNames } from '../shared/exact-names';
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
 *   two databases would land on one name, or a target name is a system database. Names differing
 *   only by case are two databases on a server that keeps case ({@link assertTargetKeepsNames}
 *   checks the target).
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
  assertDistinct(mappings, (name) => name, '');
  for (const { source, target } of mappings) {
    if (isSystemDatabase(target.toLowerCase())) {
      throw new PermanentError(`refusing to restore database ${source} as the system database ${target}`, { code: 'INVALID_INPUT', engine: ENGINE });
    }
  }
  return mappings;
}

/** Throws when two mappings' targets are one name once `fold`ed. */
function assertDistinct(mappings: DatabaseMapping[], fold: (name: string) => string, why: string): void {
  const seen = new Map<string, string>();
  for (const { source, target } of mappings) {
    const other = seen.get(fold(target));
    if (other !== undefined) {
      throw new PermanentError(`databases ${other} and ${source} would both be restored as ${fold(target)}${why}; fix renameDatabases`, { code: 'INVALID_INPUT', engine: ENGINE });
    }
    seen.set(fold(target), source);
  }
}

/**
 * Refuses, before anything is written, what a target that folds names (`lower_case_table_names`
 * 1 or 2) would merge or rename: two databases (`Plain` and `plain` on the source are one there),
 * two tables of one database (`tables`: source names), and — where it stores names in lower case (1) — a database name with
 * capitals, which it would create as another name than the restore then looks for.
 */
export async function assertTargetKeepsNames(connection: Connection, mappings: DatabaseMapping[], tables: ReadonlyArray<{ database: string; table: string }>, where: string): Promise<void> {
  const mode = await lowerCaseTableNames(connection);
  if (mode === 0) return;
  const why = ` on ${where}, which compares names in lower case (lower_case_table_names = ${mode})`;
  assertDistinct(mappings, (name) => name.toLowerCase(), why);
  const capitalised = mappings.filter((m) => m.target !== m.target.toLowerCase());
  if (mode === 1 && capitalised.length > 0) {
    const renames = Object.fromEntries(capitalised.map((m) => [m.source, m.target.toLowerCase()]));
    throw new PermanentError(`${where} stores database names in lower case (lower_case_table_names = 1): restore ${capitalised.map((m) => m.source).join(', ')} under lower-case names, e.g. renameDatabases ${JSON.stringify(renames)}`,
      { code: 'INVALID_INPUT', engine: ENGINE });
  }
  const targetOf = new Map(mappings.map((m) => [m.source, m.target]));
  const seen = new Map<string, string>();
  for (const { database, table } of tables) {
    const key = `${(targetOf.get(database) ?? database).toLowerCase()}\u0000${table.toLowerCase()}`;
    const other = seen.get(key);
    if (other !== undefined) throw new PermanentError(`tables ${database}.${other} and ${database}.${table} would be one table${why}`, { code: 'INVALID_INPUT', engine: ENGINE });
    seen.set(key, table);
  }
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

type CountRow = { kind: string; n: number | string };

/** Reads what the target holds under each of `names` (each looked up alone: exact-names.ts). */
export async function inspectDatabases(connection: Connection, names: string[]): Promise<DatabaseState[]> {
  if (names.length === 0) return [];
  return Promise.all(names.map(async (name): Promise<DatabaseState> => {
    const [schemata] = await connection.query(`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE ${isExactly('SCHEMA_NAME')}`, [name, name]) as [unknown[], unknown];
    const [counts] = await connection.query(`
      SELECT IF(TABLE_TYPE = 'VIEW', 'view', IF(BINARY TABLE_NAME = ?, 'marker', 'table')) AS kind, COUNT(*) AS n
        FROM information_schema.TABLES WHERE ${isExactly('TABLE_SCHEMA')} GROUP BY 1
      UNION ALL SELECT 'routine', COUNT(*) FROM information_schema.ROUTINES WHERE ${isExactly('ROUTINE_SCHEMA')}
      UNION ALL SELECT 'event', COUNT(*) FROM information_schema.EVENTS WHERE ${isExactly('EVENT_SCHEMA')}`,
    [MARKER_TABLE, name, name, name, name, name, name]) as [CountRow[], unknown];
    const count = (kind: string) => Number(counts.find((row) => row.kind === kind)?.n ?? 0);
    return {
      name,
      exists: schemata.length > 0,
      tables: count('table'),
      views: count('view'),
      routines: count('routine'),
      events: count('event'),
      marked: count('marker') > 0,
    };
  }));
}
