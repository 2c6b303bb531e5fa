/**
 * The databases a logical restore writes: each backed-up database under its target name
 * (`renameDatabases`), and what the target server already holds under those names.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { ENGINE, isSystemDatabase, type MysqlFacts } from '../shared/layout';
import { isExactly } from '../shared/exact-names';
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
 *   only by case are two databases on a server that keeps case ({@link assertDistinctOnTarget}
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
 * Refuses `mappings` that would put two databases under one name on the target of `connection`: a
 * server with `lower_case_table_names` other than 0 stores database names in lower case, so `Plain`
 * and `plain`, two databases on the source, are one there.
 */
export async function assertDistinctOnTarget(connection: Connection, mappings: DatabaseMapping[], where: string): Promise<void> {
  const [[{ folding }]] = await connection.query('SELECT @@lower_case_table_names AS folding') as [Array<{ folding: number | string }>, unknown];
  if (Number(folding) === 0) return;
  assertDistinct(mappings, (name) => name.toLowerCase(), ` on ${where}, which keeps database names in lower case (lower_case_table_names = ${folding})`);
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
