/**
 * The schema of a cluster as CQL that recreates it, the table ids (a table's directory name holds
 * its id, and a table recreated after a backup has a new one), and recreating what a cluster lacks.
 *
 * Columns, keys, order and options come from cassandra-driver's metadata; the table list, the ids
 * and what the driver leaves out for 2.1 (the compaction thresholds) from the system schema tables.
 */
import type { Client } from 'cassandra-driver';
import { PermanentError, TransientError } from '../../core/errors';
import { cqlError } from './cql-errors';
import {
  keyspaceCql, tableCql, indexCql, indexNameGrammar, indexNameText, typeCql, typesUsedBy,
  type IndexNameGrammar, type KeyspaceMetadata, type TableMetadataLike, type TypeMetadataLike,
} from './schema-text';
import { MARKS_KEYSPACE } from './restore-marks';
import { keyspaceNames, releaseVersion, schemaLayout, systemIndexes, systemTables, systemTypes, type SchemaLayout } from './system-schema';

export interface TableSchema {
  keyspace: string;
  table: string;
  /** table id as a uuid string, e.g. 5a1c...-... */
  id: string;
  cql: string;
  /** CREATE INDEX statements */
  indexes: string[];
  counter: boolean;
  partitionKeys: string[];
  clusteringKeys: string[];
}

/** A user-defined type. */
export interface TypeSchema {
  type: string;
  /** CREATE TYPE ... */
  cql: string;
}

export interface KeyspaceSchema {
  keyspace: string;
  /** CREATE KEYSPACE ... */
  cql: string;
  /** Its user-defined types, each after those it is made of (absent in backups taken before types were kept). */
  types?: TypeSchema[];
  tables: TableSchema[];
}

const SYSTEM_KEYSPACES = new Set(['system', 'system_auth', 'system_traces', 'system_distributed', 'system_schema', 'system_views', 'system_virtual_schema']);

/** True for the keyspaces Cassandra (or DSE) owns, and the one of our restores' marks (restore-marks.ts): a backup takes them only when named. */
export function isSystemKeyspace(name: string): boolean {
  return SYSTEM_KEYSPACES.has(name) || name.startsWith('dse_') || name === MARKS_KEYSPACE;
}

const ENGINE = 'cassandra';
const COUNTER = 5;

/**
 * The schema of `keyspaces` (undefined: every keyspace but the system ones), keyspaces and tables
 * sorted by name. A keyspace named but missing → PermanentError CASSANDRA_NO_SUCH_KEYSPACE.
 * @example const [shop] = await readSchema(client, ['shop']); shop.tables.map((t) => t.cql)
 */
export async function readSchema(client: Client, keyspaces?: readonly string[]): Promise<KeyspaceSchema[]> {
  const layout = await schemaLayout(client);
  const existing = await keyspaceNames(client, layout);
  const wanted = keyspaces ? [...new Set(keyspaces)] : existing.filter((name) => !isSystemKeyspace(name));
  const missing = wanted.filter((name) => !existing.includes(name));
  if (missing.length > 0) {
    throw new PermanentError(`no such keyspace: ${missing.join(', ')}`, { code: 'CASSANDRA_NO_SUCH_KEYSPACE', engine: ENGINE });
  }
  const schema: KeyspaceSchema[] = [];
  for (const keyspace of wanted.sort()) schema.push(await readKeyspace(client, layout, keyspace));
  return schema;
}

async function readKeyspace(client: Client, layout: SchemaLayout, keyspace: string): Promise<KeyspaceSchema> {
  try {
    await client.metadata.refreshKeyspace(keyspace);
  } catch (error) {
    throw cqlError(error, `reading the schema of ${keyspace}`);
  }
  const meta = (client.metadata.keyspaces as Record<string, KeyspaceMetadata | undefined>)[keyspace];
  if (!meta) throw new TransientError(`keyspace ${keyspace} vanished while its schema was read`, { code: 'CASSANDRA_SCHEMA_CHANGED', engine: ENGINE });
  const tables: TableSchema[] = [];
  const found = (await systemTables(client, layout, keyspace)).sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
  for (const system of found) {
    let table: TableMetadataLike | null;
    try {
      table = (await client.metadata.getTable(keyspace, system.table)) as unknown as TableMetadataLike | null;
    } catch (error) {
      throw cqlError(error, `reading the schema of ${keyspace}.${system.table}`);
    }
    if (!table) throw new TransientError(`table ${keyspace}.${system.table} vanished while its schema was read`, { code: 'CASSANDRA_SCHEMA_CHANGED', engine: ENGINE });
    tables.push({
      keyspace,
      table: system.table,
      id: system.id,
      cql: tableCql(keyspace, table, { layout, ...system }),
      indexes: table.indexes.map((index) => indexCql(keyspace, table, index)),
      counter: table.columns.some((column) => column.type.code === COUNTER),
      partitionKeys: table.partitionKeys.map((column) => column.name),
      clusteringKeys: table.clusteringKeys.map((column) => column.name),
    });
  }
  return { keyspace, cql: keyspaceCql(meta), types: await readTypes(client, layout, keyspace), tables };
}

/** The keyspace's user-defined types as CQL, each after the types it is made of. */
async function readTypes(client: Client, layout: SchemaLayout, keyspace: string): Promise<TypeSchema[]> {
  const described = new Map<string, TypeMetadataLike>();
  for (const name of (await systemTypes(client, layout, keyspace)).sort()) {
    let udt: TypeMetadataLike | null;
    try {
      udt = (await client.metadata.getUdt(keyspace, name)) as unknown as TypeMetadataLike | null;
    } catch (error) {
      throw cqlError(error, `reading the type ${keyspace}.${name}`);
    }
    if (!udt) throw new TransientError(`type ${keyspace}.${name} vanished while its schema was read`, { code: 'CASSANDRA_SCHEMA_CHANGED', engine: ENGINE });
    described.set(name, udt);
  }
  const ordered: TypeSchema[] = [];
  const placed = new Set<string>();
  const place = (name: string) => {
    const udt = described.get(name);
    if (!udt || placed.has(name)) return;
    placed.add(name);
    for (const field of udt.fields) for (const used of typesUsedBy(field.type)) place(used);
    ordered.push({ type: name, cql: typeCql(keyspace, udt) });
  };
  for (const name of described.keys()) place(name);
  return ordered;
}

/**
 * The table's directory name under `<data dir>/<keyspace>/`: `<table>-<id without dashes>` (2.1 and later).
 * @example tableDirName({ table: 'items', id: '5a1c0e40-6b8e-11ef-9e0b-3f1d2c4b5a69' }) // items-5a1c0e406b8e11ef9e0b3f1d2c4b5a69
 */
export function tableDirName(table: Pick<TableSchema, 'table' | 'id'>): string {
  return `${table.table}-${table.id.replace(/-/g, '')}`;
}

/** The live ids of `keyspace`'s tables, by table name (empty when the keyspace does not exist). */
export async function liveTableIds(client: Client, keyspace: string): Promise<Map<string, string>> {
  const layout = await schemaLayout(client);
  return new Map((await systemTables(client, layout, keyspace)).map((table) => [table.table, table.id]));
}

/**
 * What of a table's CQL its SSTables depend on: the columns with their types, the primary key,
 * the clustering order and compact storage — not its options (compaction, caching, …), which a
 * target may set otherwise. One line each.
 */
export function tableShape(cql: string): string[] {
  const end = cql.indexOf('\n) WITH ');
  const lines = cql.slice(cql.indexOf('(\n') + 2, end < 0 ? undefined : end).split('\n').map((line) => line.trim().replace(/,$/, ''));
  const clauses = end < 0 ? [] : cql.slice(end + '\n) WITH '.length).split('\n  AND ');
  return [...lines, ...clauses.filter((clause) => clause.startsWith('CLUSTERING ORDER BY (') || clause === 'COMPACT STORAGE')];
}

/**
 * Refuses to restore into a table of the target whose shape (tableShape) is not the backup's, or
 * next to a type of the backup's name with other fields: its SSTables loaded there would read as
 * garbage, and a forced restore would have truncated it first. (A target table with columns the
 * backup's lacks is refused too: its rows would not be the backup's, nor pass the validation.)
 * @throws PermanentError `CASSANDRA_SCHEMA_DIFFERS` naming each table and what differs
 */
export async function assertSameShapes(client: Client, restored: readonly KeyspaceSchema[]): Promise<void> {
  const layout = await schemaLayout(client);
  const present = new Set(await keyspaceNames(client, layout));
  const live = await readSchema(client, restored.map((k) => k.keyspace).filter((k) => present.has(k)));
  const problems: string[] = [];
  for (const keyspace of restored) {
    const liveKeyspace = live.find((k) => k.keyspace === keyspace.keyspace);
    for (const type of keyspace.types ?? []) {
      const there = liveKeyspace?.types?.find((t) => t.type === type.type);
      if (there && there.cql !== type.cql) problems.push(`type ${keyspace.keyspace}.${type.type} (the backup's: ${type.cql}; the target's: ${there.cql})`);
    }
    for (const table of keyspace.tables) {
      const there = liveKeyspace?.tables.find((t) => t.table === table.table);
      if (!there) continue;
      const [want, have] = [tableShape(table.cql), tableShape(there.cql)];
      const missing = want.filter((line) => !have.includes(line));
      const extra = have.filter((line) => !want.includes(line));
      if (missing.length + extra.length > 0) problems.push(`${keyspace.keyspace}.${table.table} (the backup's: ${missing.join('; ') || 'nothing else'}; the target's: ${extra.join('; ') || 'nothing else'})`);
    }
  }
  if (problems.length === 0) return;
  throw new PermanentError(
    `cassandra: the target's tables or types are not the backup's: ${problems.join(', ')}. Its SSTables would read as garbage there: drop those tables and types (the restore then creates them) or restore into another cluster`,
    { code: 'CASSANDRA_SCHEMA_DIFFERS', engine: ENGINE },
  );
}

const INDEX_NAME = /^(CREATE (?:CUSTOM )?INDEX (?:IF NOT EXISTS )?)("(?:[^"]|"")+"|\w+)( ON )/i;

/** The name of the index a `CREATE [CUSTOM] INDEX <name> ON …` statement creates. */
export function indexNameOf(cql: string): string {
  const match = INDEX_NAME.exec(cql);
  if (!match) throw new PermanentError(`not a CREATE INDEX statement: ${cql}`, { code: 'CASSANDRA_BAD_SCHEMA', engine: ENGINE });
  const name = match[2];
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}

/**
 * A backup's `CREATE INDEX` statement as the target's nodes must read it to create an index of
 * exactly the backup's name (schema-text.ts `indexNameGrammar`): `CREATE INDEX "AttrKeys" ON …`
 * for 2.1.3 and later, `CREATE INDEX AttrKeys ON …` before.
 * @throws PermanentError `CASSANDRA_INDEX_NAME_UNSUPPORTED` when a grammar cannot write the name, or
 *   the nodes' grammars would need different texts (a ring half upgraded across 2.1.3)
 */
export function indexStatementFor(statement: string, grammars: readonly IndexNameGrammar[]): string {
  const name = indexNameOf(statement);
  const texts = new Set([...new Set(grammars)].map((grammar) => indexNameText(name, grammar)));
  if (texts.has(undefined)) {
    throw new PermanentError(
      `cassandra: the index ${JSON.stringify(name)} cannot be created under its name on Cassandra before 2.1.3, whose CREATE INDEX takes only a bare word (a letter, then letters, digits and _): restore into 2.1.3 or later`,
      { code: 'CASSANDRA_INDEX_NAME_UNSUPPORTED', engine: ENGINE },
    );
  }
  if (texts.size > 1) {
    throw new PermanentError(
      `cassandra: the target's nodes run releases before and after 2.1.3, which read the index name ${JSON.stringify(name)} differently: finish the upgrade, then restore`,
      { code: 'CASSANDRA_INDEX_NAME_UNSUPPORTED', engine: ENGINE },
    );
  }
  const [text] = [...texts] as string[];
  return statement.replace(INDEX_NAME, (_, create: string, _name: string, on: string) => `${create}${text}${on}`);
}

/** The index-name grammars of the cluster's nodes (each host's release; the contact node's when the driver knows none). */
async function indexNameGrammars(client: Client): Promise<IndexNameGrammar[]> {
  const versions = client.hosts.values().map((host) => host.cassandraVersion).filter((version) => Boolean(version));
  if (versions.length === 0) versions.push(await releaseVersion(client));
  return versions.map(indexNameGrammar);
}

/** `statement` with `IF NOT EXISTS` after its `CREATE KEYSPACE|TYPE|TABLE|[CUSTOM] INDEX`. */
function ifNotExists(statement: string): string {
  return statement.replace(/^(CREATE (?:KEYSPACE|TYPE|TABLE|(?:CUSTOM )?INDEX)) (?!IF NOT EXISTS )/i, '$1 IF NOT EXISTS ');
}

/**
 * Creates, with IF NOT EXISTS, each keyspace/type/table/index of `schema` that the cluster lacks,
 * and returns what it created: `keyspace`, `keyspace.type`, `keyspace.table` and `keyspace.table.index`. Waits for
 * schema agreement (TransientError CASSANDRA_SCHEMA_DISAGREEMENT when the nodes do not agree in time).
 * @example await createMissingSchema(client, backedUp) // ['shop', 'shop.items', 'shop.events']
 */
export async function createMissingSchema(client: Client, schema: readonly KeyspaceSchema[], options: { agreementTimeoutMs?: number } = {}): Promise<string[]> {
  const layout = await schemaLayout(client);
  const keyspaces = new Set(await keyspaceNames(client, layout));
  // Every index statement as the target reads it, before anything is created: a name it cannot take is refused first.
  const grammars = await indexNameGrammars(client);
  const indexText = new Map(schema.flatMap((k) => k.tables.flatMap((t) => t.indexes)).map((index) => [index, indexStatementFor(index, grammars)]));
  const created: string[] = [];
  const run = async (statement: string, name: string) => {
    try {
      await client.execute(ifNotExists(statement));
    } catch (error) {
      throw cqlError(error, `creating ${name}`);
    }
    created.push(name);
  };

  for (const keyspace of schema) {
    if (!keyspaces.has(keyspace.keyspace)) await run(keyspace.cql, keyspace.keyspace);
    const types = new Set(await systemTypes(client, layout, keyspace.keyspace));
    for (const type of keyspace.types ?? []) {
      if (!types.has(type.type)) await run(type.cql, `${keyspace.keyspace}.${type.type}`);
    }
    const tables = new Set((await systemTables(client, layout, keyspace.keyspace)).map((table) => table.table));
    for (const table of keyspace.tables) {
      if (!tables.has(table.table)) await run(table.cql, `${keyspace.keyspace}.${table.table}`);
    }
    const indexes = await systemIndexes(client, layout, keyspace.keyspace);
    for (const table of keyspace.tables) {
      for (const index of table.indexes) {
        const name = `${table.table}.${indexNameOf(index)}`;
        if (!indexes.has(name)) await run(indexText.get(index)!, `${keyspace.keyspace}.${name}`);
      }
    }
  }
  await awaitSchemaAgreement(client, options.agreementTimeoutMs ?? 30_000);
  return created;
}

/** Resolves once every node reports the same schema version. */
export async function awaitSchemaAgreement(client: Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // In the driver, not in its typings.
  const metadata = client.metadata as unknown as { checkSchemaAgreement(): Promise<boolean> };
  for (;;) {
    if (await metadata.checkSchemaAgreement()) return;
    if (Date.now() >= deadline) {
      throw new TransientError(`the nodes did not agree on the schema within ${timeoutMs} ms`, { code: 'CASSANDRA_SCHEMA_DISAGREEMENT', engine: ENGINE });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

