/**
 * CREATE statements written from cassandra-driver's metadata of a keyspace, a user-defined type, a table and an index:
 * replication and durable_writes; columns with their types (static ones marked), the primary key,
 * CLUSTERING ORDER, COMPACT STORAGE and the table options the source reports; indexes (custom
 * ones with their class and options). Cassandra's own classes are written by their short names.
 */
import { mapLiteral, qualifiedName, quoteIdentifier, quoteString, cqlType, type CqlTypeInfo } from './cql-text';
import { types } from 'cassandra-driver';
import type { SchemaLayout, SystemTable } from './system-schema';

/** The driver's keyspace metadata (its fields are not in the driver's typings). */
export interface KeyspaceMetadata {
  name: string;
  strategy: string;
  strategyOptions: Record<string, unknown> | null;
  durableWrites: boolean;
}

export interface ColumnMetadataLike {
  name: string;
  type: CqlTypeInfo;
  isStatic?: boolean;
}

export interface IndexMetadataLike {
  name: string;
  target: string;
  /** 0: custom, 1: keys, 2: composites. */
  kind: number;
  options: Record<string, unknown> | null;
}

/** The parts of the driver's `TableMetadata` read here. */
export interface TableMetadataLike {
  name: string;
  columns: ColumnMetadataLike[];
  partitionKeys: ColumnMetadataLike[];
  clusteringKeys: ColumnMetadataLike[];
  clusteringOrder: string[];
  isCompact: boolean;
  indexes: IndexMetadataLike[];
  bloomFilterFalsePositiveChance?: number | null;
  caching?: string | Record<string, unknown> | null;
  comment?: string | null;
  compactionClass?: string | null;
  compactionOptions?: Record<string, unknown> | null;
  compression?: Record<string, unknown> | null;
  defaultTtl?: number | null;
  gcGraceSeconds?: number | null;
  localReadRepairChance?: number | null;
  readRepairChance?: number | null;
  maxIndexInterval?: number | null;
  minIndexInterval?: number | null;
  memtableFlushPeriod?: number | null;
  speculativeRetry?: string | null;
}

/** What the system tables add to the driver's view of a table. */
export type TableExtras = Pick<SystemTable, 'minCompactionThreshold' | 'maxCompactionThreshold'> & { layout: SchemaLayout };

const CASSANDRA_PACKAGES = ['org.apache.cassandra.locator.', 'org.apache.cassandra.db.compaction.', 'org.apache.cassandra.io.compress.'];

/** Cassandra's own strategy and compressor classes by their short names; other classes in full. */
export function shortClassName(name: string): string {
  const prefix = CASSANDRA_PACKAGES.find((p) => name.startsWith(p));
  return prefix ? name.slice(prefix.length) : name;
}

const byKey = (a: readonly [string, unknown], b: readonly [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** `CREATE KEYSPACE ks WITH replication = {…} AND durable_writes = …` */
export function keyspaceCql(keyspace: KeyspaceMetadata): string {
  const options = Object.entries(keyspace.strategyOptions ?? {}).sort(byKey);
  const replication = mapLiteral([['class', shortClassName(keyspace.strategy)], ...options]);
  return `CREATE KEYSPACE ${quoteIdentifier(keyspace.name)} WITH replication = ${replication} AND durable_writes = ${keyspace.durableWrites !== false}`;
}

/** 2.1 keeps caching as JSON text (`{"keys":"ALL", "rows_per_partition":"NONE"}`); 2.0 as a word. */
function cachingLiteral(caching: string | Record<string, unknown>): string {
  if (typeof caching !== 'string') return mapLiteral(Object.entries(caching).sort(byKey));
  try {
    const parsed: unknown = JSON.parse(caching);
    if (parsed && typeof parsed === 'object') return mapLiteral(Object.entries(parsed).sort(byKey));
  } catch {
    // a word, e.g. KEYS_ONLY
  }
  return quoteString(caching);
}

/** 2.1's strategies that take `min_threshold`/`max_threshold` (LeveledCompactionStrategy refuses them). */
const THRESHOLD_STRATEGIES = new Set(['SizeTieredCompactionStrategy', 'DateTieredCompactionStrategy']);

/**
 * The compaction map. 2.1 keeps the thresholds in columns of their own, and in the options too only
 * when they were given there: a threshold is added to the map only when it is not the default (4,
 * 32) and not in the options already, so the recreated table's options read back the same.
 */
function compactionLiteral(table: TableMetadataLike, extras: TableExtras): string {
  const options = new Map(Object.entries(table.compactionOptions ?? {}));
  const className = shortClassName(table.compactionClass ?? String(table.compactionOptions?.class ?? 'SizeTieredCompactionStrategy'));
  if (THRESHOLD_STRATEGIES.has(className)) {
    const { minCompactionThreshold: min, maxCompactionThreshold: max } = extras;
    if (min !== undefined && min !== 4 && !options.has('min_threshold')) options.set('min_threshold', min);
    if (max !== undefined && max !== 32 && !options.has('max_threshold')) options.set('max_threshold', max);
  }
  options.delete('class');
  return mapLiteral([['class', className], ...[...options].sort(byKey)]);
}

function compressionLiteral(compression: Record<string, unknown>, layout: SchemaLayout): string {
  const entries = Object.entries(compression);
  // No compression: 2.1 records an empty map, and takes an empty compressor name to mean it.
  if (entries.length === 0) return layout === 'legacy' ? mapLiteral([['sstable_compression', '']]) : mapLiteral([['enabled', 'false']]);
  const named = entries.map(([key, value]): [string, unknown] => (key === 'sstable_compression' || key === 'class' ? [key, shortClassName(String(value))] : [key, value]));
  return mapLiteral(named.sort(byKey));
}

/** The table's options, each `name = value`, in name order; options the source does not report are left out. */
function tableOptions(table: TableMetadataLike, extras: TableExtras): string[] {
  const options: Array<[string, string | undefined]> = [
    ['bloom_filter_fp_chance', numberText(table.bloomFilterFalsePositiveChance)],
    ['caching', table.caching == null ? undefined : cachingLiteral(table.caching)],
    ['comment', table.comment == null ? undefined : quoteString(table.comment)],
    ['compaction', compactionLiteral(table, extras)],
    ['compression', table.compression == null ? undefined : compressionLiteral(table.compression, extras.layout)],
    ['dclocal_read_repair_chance', numberText(table.localReadRepairChance)],
    ['default_time_to_live', numberText(table.defaultTtl)],
    ['gc_grace_seconds', numberText(table.gcGraceSeconds)],
    ['max_index_interval', numberText(table.maxIndexInterval)],
    ['memtable_flush_period_in_ms', numberText(table.memtableFlushPeriod)],
    ['min_index_interval', numberText(table.minIndexInterval)],
    ['read_repair_chance', numberText(table.readRepairChance)],
    ['speculative_retry', table.speculativeRetry == null ? undefined : quoteString(table.speculativeRetry)],
  ];
  return options.filter((option): option is [string, string] => option[1] !== undefined).map(([name, value]) => `${name} = ${value}`);
}

function numberText(value: number | null | undefined): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

/**
 * `CREATE TABLE ks.t (…) WITH …`: partition key columns first, then clustering columns, then the
 * others in the driver's (name) order.
 */
export function tableCql(keyspace: string, table: TableMetadataLike, extras: TableExtras): string {
  const keys = new Set([...table.partitionKeys, ...table.clusteringKeys].map((column) => column.name));
  const ordered = [...table.partitionKeys, ...table.clusteringKeys, ...table.columns.filter((column) => !keys.has(column.name))];
  const columns = ordered.map((column) => `  ${quoteIdentifier(column.name)} ${cqlType(column.type)}${column.isStatic ? ' static' : ''}`);
  const partition = table.partitionKeys.map((column) => quoteIdentifier(column.name));
  const partitionText = partition.length === 1 ? partition[0] : `(${partition.join(', ')})`;
  const primaryKey = [partitionText, ...table.clusteringKeys.map((column) => quoteIdentifier(column.name))].join(', ');
  const clauses: string[] = [];
  if (table.clusteringKeys.length > 0) {
    const order = table.clusteringKeys.map((column, i) => `${quoteIdentifier(column.name)} ${table.clusteringOrder[i] === 'DESC' ? 'DESC' : 'ASC'}`);
    clauses.push(`CLUSTERING ORDER BY (${order.join(', ')})`);
  }
  if (table.isCompact) clauses.push('COMPACT STORAGE');
  clauses.push(...tableOptions(table, extras));
  return `CREATE TABLE ${qualifiedName(keyspace, table.name)} (\n${columns.join(',\n')},\n  PRIMARY KEY (${primaryKey})\n) WITH ${clauses.join('\n  AND ')}`;
}

/** The index's target in CQL: the column quoted as needed, inside `keys(…)`, `entries(…)`, `full(…)` or `values(…)`. */
function indexTarget(table: TableMetadataLike, target: string): string {
  const wrapped = /^(keys|entries|full|values)\((.+)\)$/.exec(target);
  const column = wrapped ? wrapped[2] : target;
  // 2.1 names the bare column; 3.0+ writes it as CQL already (quoted where needed).
  const quoted = column.startsWith('"') && !table.columns.some((c) => c.name === column) ? column : quoteIdentifier(column);
  return wrapped ? `${wrapped[1]}(${quoted})` : quoted;
}

/** A user-defined type as the driver describes it. */
export interface TypeMetadataLike {
  name: string;
  fields: ColumnMetadataLike[];
}

/** `CREATE TYPE ks.t (field type, …)`, its fields in their order (a value's layout). */
export function typeCql(keyspace: string, udt: TypeMetadataLike): string {
  return `CREATE TYPE ${qualifiedName(keyspace, udt.name)} (${udt.fields.map((field) => `${quoteIdentifier(field.name)} ${cqlType(field.type)}`).join(', ')})`;
}

/** The names of the user-defined types `type` is made of, at any depth. */
export function typesUsedBy(type: CqlTypeInfo): string[] {
  if (type.code === types.dataTypes.udt) {
    const udt = type.info as { name: string; fields?: ColumnMetadataLike[] };
    return [udt.name, ...(udt.fields ?? []).flatMap((field) => typesUsedBy(field.type))];
  }
  const inner = Array.isArray(type.info) ? type.info as CqlTypeInfo[] : type.info && typeof type.info === 'object' && 'code' in type.info ? [type.info as CqlTypeInfo] : [];
  return inner.flatMap(typesUsedBy);
}

/**
 * How a release's CQL grammar reads the name in `CREATE INDEX <name> ON …` (Cql.g, then Parser.g):
 * - `as-written`: before 2.1.3 the name is `(idxName=IDENT)?`, taken as written — `AttrKeys` stays
 *   AttrKeys — and a quoted name is a syntax error (`extraneous input … expecting K_ON`);
 * - `identifier`: from 2.1.3 (CASSANDRA-8365) through 2.2, 3.x and 4.x it is `idxName`, an identifier
 *   like any other — unquoted lower-cased, quoted kept as written.
 * An unknown release reads as a current one.
 * @example indexNameGrammar('2.1.0') // as-written
 * @example indexNameGrammar('3.11.4') // identifier
 */
export type IndexNameGrammar = 'as-written' | 'identifier';

export function indexNameGrammar(releaseVersion: string): IndexNameGrammar {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(releaseVersion);
  if (!match) return 'identifier';
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  const before213 = major < 2 || (major === 2 && (minor < 1 || (minor === 1 && patch < 3)));
  return before213 ? 'as-written' : 'identifier';
}

/**
 * The index name as `grammar` must spell it to create an index of exactly that name; undefined
 * when it cannot (before 2.1.3 only a bare word — a letter, then letters, digits and `_` — can be
 * written; a CQL keyword cannot either, and is left to the server to refuse).
 * @example indexNameText('AttrKeys', 'as-written') // AttrKeys
 * @example indexNameText('AttrKeys', 'identifier') // "AttrKeys"
 */
export function indexNameText(name: string, grammar: IndexNameGrammar): string | undefined {
  if (grammar === 'identifier') return quoteIdentifier(name);
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name) ? name : undefined;
}

/**
 * `CREATE INDEX name ON ks.t (target)`, or `CREATE CUSTOM INDEX … USING 'class' [WITH OPTIONS = {…}]`:
 * the name as 2.1.3 and later read it (quoted where needed); a target of another grammar gets
 * its name rewritten (schema-cql.ts `indexStatementFor`).
 */
export function indexCql(keyspace: string, table: TableMetadataLike, index: IndexMetadataLike): string {
  const on = `${quoteIdentifier(index.name)} ON ${qualifiedName(keyspace, table.name)} (${indexTarget(table, index.target)})`;
  const className = index.options?.class_name;
  if (index.kind !== 0 || typeof className !== 'string') return `CREATE INDEX ${on}`;
  const rest = Object.entries(index.options ?? {}).filter(([key]) => key !== 'class_name' && key !== 'target').sort(byKey);
  return `CREATE CUSTOM INDEX ${on} USING ${quoteString(className)}${rest.length > 0 ? ` WITH OPTIONS = ${mapLiteral(rest)}` : ''}`;
}
