/**
 * The marks of Cassandra restores that began writing and are not yet proven, so that a backup of a
 * half-restored keyspace is refused rather than recorded as whole (as MySQL's marker table does:
 * drivers/mysql/logical/restore-marker.ts).
 *
 * A mark is a row of the cluster's own table {@link MARKS_TABLE}: the keyspace, the restore, its
 * backup, and the tables it writes there. Not a table created in each restored keyspace and dropped
 * at the end, as MySQL's: that would be two schema changes per keyspace and restore, each agreed by
 * every node, and each drop would leave an automatic `dropped-…` snapshot on every node. The
 * keyspace and table are created once per cluster (replicated to up to three nodes of each data
 * center); marks are written and read at QUORUM, so a backup sees a mark written through any node.
 *
 * The first host marks the restored keyspaces before it creates or truncates anything. The marks
 * go once the restore is proven (its validation passed: every host's load is done): its own, and
 * those of earlier restores whose every table it has just replaced and proven (an attempt that
 * failed, redone). A restore that failed, or whose validation failed, leaves its marks.
 */
import { types, type Client } from 'cassandra-driver';
import { PermanentError } from '../../core/errors';
import { nameSome } from '../../core/name-some';
import { cqlError } from './cql-errors';
import { mapLiteral, qualifiedName } from './cql-text';
import { nodesPerDataCenter, type RingNode } from './ring';
import { keyspaceNames, schemaLayout, systemTables } from './system-schema';

/** The keyspace of the marks: a backup leaves it out unless asked for it by name (schema-cql.ts). */
export const MARKS_KEYSPACE = 'dbbackup';
const MARKS_TABLE_NAME = 'unfinished_restores';
/** The table of the marks in {@link MARKS_KEYSPACE}. */
export const MARKS_TABLE = `${MARKS_KEYSPACE}.${MARKS_TABLE_NAME}`;

/** Replicas of the marks in each data center, at most. */
const MARK_REPLICAS = 3;

const ENGINE = 'cassandra';

/** A restore that began writing a keyspace and is not yet proven. */
export interface RestoreMark {
  keyspace: string;
  restoreId: string;
  backupId: string;
  /** The tables it writes in `keyspace`. */
  tables: string[];
}

async function run(client: Client, query: string, params: unknown[], what: string) {
  try {
    // `types` read here, not at load: the CLI loads the client only when it talks to Cassandra.
    return await client.execute(query, params, { prepare: true, consistency: types.consistencies.quorum });
  } catch (error) {
    throw cqlError(error, what);
  }
}

/** What the cluster has of the marks' keyspace and table (neither: no restore has marked anything). */
async function marksSchema(client: Client): Promise<{ keyspace: boolean; table: boolean }> {
  const layout = await schemaLayout(client);
  if (!(await keyspaceNames(client, layout)).includes(MARKS_KEYSPACE)) return { keyspace: false, table: false };
  return { keyspace: true, table: (await systemTables(client, layout, MARKS_KEYSPACE)).some((t) => t.table === MARKS_TABLE_NAME) };
}

/**
 * Marks `restore` as writing the `tables` of each keyspace (keyspace → table names), creating the
 * marks' keyspace and table first when the cluster lacks them (replicas in each data center of
 * `ring`; only then: Cassandra asks for the CREATE permission even when they exist). Idempotent: a
 * retried step writes the same rows. A failure part way removes the marks it wrote, so that a
 * target the report calls untouched is not refused to backups.
 */
export async function markRestore(client: Client, ring: readonly RingNode[], restore: { restoreId: string; backupId: string }, tables: ReadonlyMap<string, readonly string[]>): Promise<void> {
  const has = await marksSchema(client);
  if (!has.keyspace) {
    const perDataCenter = [...nodesPerDataCenter(ring)].map(([dataCenter, nodes]) => [dataCenter, Math.min(MARK_REPLICAS, nodes)] as const);
    const replication = mapLiteral([['class', 'NetworkTopologyStrategy'], ...perDataCenter]);
    await run(client, `CREATE KEYSPACE IF NOT EXISTS ${MARKS_KEYSPACE} WITH replication = ${replication}`, [], `creating keyspace ${MARKS_KEYSPACE} for the marks of unfinished restores`);
  }
  if (!has.table) {
    await run(client, `CREATE TABLE IF NOT EXISTS ${MARKS_TABLE} (keyspace_name text, restore_id text, backup_id text, tables set<text>, started timestamp, PRIMARY KEY (keyspace_name, restore_id))`, [],
      `creating table ${MARKS_TABLE}`);
  }
  const written: string[] = [];
  try {
    for (const [keyspace, names] of tables) {
      await run(client, `INSERT INTO ${MARKS_TABLE} (keyspace_name, restore_id, backup_id, tables, started) VALUES (?, ?, ?, ?, ?)`,
        [keyspace, restore.restoreId, restore.backupId, [...names], new Date()], `marking keyspace ${keyspace} as being restored`);
      written.push(keyspace);
    }
  } catch (error) {
    for (const keyspace of written) await removeMark(client, keyspace, restore.restoreId).catch(() => undefined);
    throw error;
  }
}

function removeMark(client: Client, keyspace: string, restoreId: string) {
  return run(client, `DELETE FROM ${MARKS_TABLE} WHERE keyspace_name = ? AND restore_id = ?`, [keyspace, restoreId], `removing the restore mark of keyspace ${keyspace}`);
}

/** The marks on `keyspaces`: the restores into them that began writing and are not yet proven. */
export async function restoreMarks(client: Client, keyspaces: readonly string[]): Promise<RestoreMark[]> {
  if (keyspaces.length === 0 || !(await marksSchema(client)).table) return [];
  const marks: RestoreMark[] = [];
  for (const keyspace of keyspaces) {
    const found = await run(client, `SELECT restore_id, backup_id, tables FROM ${MARKS_TABLE} WHERE keyspace_name = ?`, [keyspace], `reading the restore marks of keyspace ${keyspace}`);
    for (const row of found.rows) {
      marks.push({ keyspace, restoreId: String(row.restore_id), backupId: String(row.backup_id), tables: ((row.tables as string[] | null) ?? []).map(String) });
    }
  }
  return marks;
}

/**
 * Once restore `restoreId` is proven, with the `tables` of each keyspace it replaced: removes its
 * marks, and those of other restores that wrote only tables it replaced (they hold what it proved).
 * Returns the marks it leaves on those keyspaces (other restores' writes to tables it did not restore).
 */
export async function unmarkProvenRestore(client: Client, restoreId: string, tables: ReadonlyMap<string, readonly string[]>): Promise<RestoreMark[]> {
  const left: RestoreMark[] = [];
  for (const mark of await restoreMarks(client, [...tables.keys()])) {
    const replaced = new Set(tables.get(mark.keyspace));
    if (mark.restoreId !== restoreId && !mark.tables.every((t) => replaced.has(t))) {
      left.push(mark);
      continue;
    }
    await removeMark(client, mark.keyspace, mark.restoreId);
  }
  return left;
}

/** What a mark says, for an operator: the keyspace, the restore and its backup, the tables it wrote. */
export function describeMark(mark: RestoreMark): string {
  return `${mark.keyspace} (restore ${mark.restoreId} of backup ${mark.backupId}, writing ${nameSome(mark.tables.map((t) => qualifiedName(mark.keyspace, t)), { most: 5 })})`;
}

/**
 * Refuses a backup of keyspaces with restore marks: they hold part of a backup, not a state the
 * cluster was ever in. @throws PermanentError `CASSANDRA_UNFINISHED_RESTORE`
 */
export async function refuseUnfinishedRestores(client: Client, keyspaces: readonly string[]): Promise<void> {
  const marks = await restoreMarks(client, keyspaces);
  if (marks.length === 0) return;
  const one = marks.length === 1;
  const first = marks[0];
  throw new PermanentError(
    `${one ? 'a restore into keyspace' : 'restores into keyspaces'} ${nameSome(marks.map(describeMark), { most: 3 })} did not finish or ${one ? 'was' : 'were'} not proven, `
    + `so ${one ? 'it holds' : 'they hold'} part of a backup, not a state the cluster was in; finish or redo ${one ? 'that restore' : 'those restores'} (with force), `
    + `or, knowing what ${one ? 'it holds' : 'they hold'}, delete ${one ? 'its mark' : 'their marks'} (DELETE FROM ${MARKS_TABLE} WHERE keyspace_name = '${first.keyspace}' AND restore_id = '${first.restoreId}'${one ? '' : ', and so on'}) before backing ${one ? 'it' : 'them'} up`,
    { code: 'CASSANDRA_UNFINISHED_RESTORE', engine: ENGINE },
  );
}
