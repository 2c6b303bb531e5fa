/**
 * What the system schema tables say, read directly (the driver's metadata is a cache that lags a
 * change and lacks some of 2.1's facts). 2.1 and 2.2 keep the schema in `system.schema_keyspaces`,
 * `system.schema_columnfamilies` and `system.schema_columns`; 3.0 and later in `system_schema.*`.
 */
import type { Client } from 'cassandra-driver';
import { cqlError } from './cql-errors';

/** A table as the system schema records it. */
export interface SystemTable {
  table: string;
  /** The table id, a uuid string. */
  id: string;
  /** 2.1/2.2 only: compaction thresholds kept beside the compaction options (3.0+ keeps them in the options). */
  minCompactionThreshold?: number;
  maxCompactionThreshold?: number;
}

/** Which layout of the system schema a cluster uses. */
export type SchemaLayout = 'legacy' | 'system_schema';

/** The `release_version` of the node the client asks, e.g. `2.1.0`. */
export async function releaseVersion(client: Client): Promise<string> {
  const result = await client.execute('SELECT release_version FROM system.local').catch((error) => {
    throw cqlError(error, 'reading the release version');
  });
  return String(result.first()?.release_version ?? '');
}

/** The layout of the node the client asks (by its `release_version`). */
export async function schemaLayout(client: Client): Promise<SchemaLayout> {
  const major = Number.parseInt(await releaseVersion(client), 10);
  return major >= 3 ? 'system_schema' : 'legacy';
}

async function rows(client: Client, query: string, params: unknown[], what: string) {
  try {
    return (await client.execute(query, params, { prepare: true })).rows;
  } catch (error) {
    throw cqlError(error, what);
  }
}

/** The names of every keyspace. */
export async function keyspaceNames(client: Client, layout: SchemaLayout): Promise<string[]> {
  const query = layout === 'legacy' ? 'SELECT keyspace_name FROM system.schema_keyspaces' : 'SELECT keyspace_name FROM system_schema.keyspaces';
  return (await rows(client, query, [], 'listing keyspaces')).map((row) => String(row.keyspace_name));
}

/** The tables of `keyspace` with their ids, by name. */
export async function systemTables(client: Client, layout: SchemaLayout, keyspace: string): Promise<SystemTable[]> {
  if (layout === 'system_schema') {
    const found = await rows(client, 'SELECT table_name, id FROM system_schema.tables WHERE keyspace_name = ?', [keyspace], `listing the tables of ${keyspace}`);
    return found.map((row) => ({ table: String(row.table_name), id: String(row.id) }));
  }
  const found = await rows(
    client,
    'SELECT columnfamily_name, cf_id, min_compaction_threshold, max_compaction_threshold FROM system.schema_columnfamilies WHERE keyspace_name = ?',
    [keyspace],
    `listing the tables of ${keyspace}`,
  );
  return found.map((row) => ({
    table: String(row.columnfamily_name),
    id: String(row.cf_id),
    minCompactionThreshold: row.min_compaction_threshold ?? undefined,
    maxCompactionThreshold: row.max_compaction_threshold ?? undefined,
  }));
}

/** The secondary indexes of `keyspace`, as `table.index` names. */
export async function systemIndexes(client: Client, layout: SchemaLayout, keyspace: string): Promise<Set<string>> {
  const [query, tableColumn] = layout === 'legacy'
    ? ['SELECT columnfamily_name, index_name FROM system.schema_columns WHERE keyspace_name = ?', 'columnfamily_name']
    : ['SELECT table_name, index_name FROM system_schema.indexes WHERE keyspace_name = ?', 'table_name'];
  const found = await rows(client, query, [keyspace], `listing the indexes of ${keyspace}`);
  return new Set(found.filter((row) => row.index_name).map((row) => `${row[tableColumn]}.${row.index_name}`));
}

/** The user-defined types of `keyspace`, by name (2.1 keeps them in `system.schema_usertypes`). */
export async function systemTypes(client: Client, layout: SchemaLayout, keyspace: string): Promise<string[]> {
  const query = layout === 'legacy'
    ? 'SELECT type_name FROM system.schema_usertypes WHERE keyspace_name = ?'
    : 'SELECT type_name FROM system_schema.types WHERE keyspace_name = ?';
  return (await rows(client, query, [keyspace], `listing the types of ${keyspace}`)).map((row) => String(row.type_name));
}

