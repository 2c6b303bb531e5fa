/**
 * Pieces of CQL text: identifiers quoted when they need it, string and map literals, and column
 * types written from the driver's type descriptions.
 */
import { types } from 'cassandra-driver';

/** The driver's description of a column type (its `metadata.DataTypeInfo`, loosely typed: `info` varies by type). */
export interface CqlTypeInfo {
  code: number;
  info?: unknown;
  options?: { frozen?: boolean; reversed?: boolean };
}

/**
 * CQL's reserved words (2.1 through 4.x; a few non-reserved ones too, which quoting leaves
 * harmless): an identifier spelled like one must be quoted.
 */
const RESERVED = new Set([
  'add', 'aggregate', 'all', 'allow', 'alter', 'and', 'any', 'apply', 'as', 'asc', 'authorize', 'batch', 'begin', 'by',
  'columnfamily', 'create', 'default', 'delete', 'desc', 'describe', 'drop', 'each_quorum', 'entries', 'execute', 'from',
  'full', 'grant', 'if', 'in', 'index', 'inet', 'infinity', 'insert', 'into', 'is', 'keyspace', 'keyspaces', 'limit',
  'local_one', 'local_quorum', 'materialized', 'mbean', 'mbeans', 'modify', 'nan', 'norecursive', 'not', 'null', 'of', 'on',
  'one', 'or', 'order', 'partition', 'password', 'per', 'primary', 'quorum', 'rename', 'replace', 'revoke', 'schema',
  'select', 'set', 'table', 'three', 'to', 'token', 'truncate', 'two', 'unlogged', 'unset', 'update', 'use', 'using', 'view',
  'where', 'with',
]);

/**
 * An identifier as CQL must spell it: bare when it is lower case, starts with a letter and is not
 * a reserved word; otherwise in double quotes (a quote inside doubled).
 * @example quoteIdentifier('items') // items
 * @example quoteIdentifier('sensorId') // "sensorId"
 */
export function quoteIdentifier(name: string): string {
  if (/^[a-z][a-z0-9_]*$/.test(name) && !RESERVED.has(name)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** `keyspace.table`, each part quoted as needed. */
export function qualifiedName(keyspace: string, name: string): string {
  return `${quoteIdentifier(keyspace)}.${quoteIdentifier(name)}`;
}

/** A string literal: `'it''s'`. */
export function quoteString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A map literal of string values, keys in the given order: `{'class': 'SimpleStrategy', 'replication_factor': '3'}`. */
export function mapLiteral(entries: Iterable<readonly [string, unknown]>): string {
  return `{${[...entries].map(([key, value]) => `${quoteString(key)}: ${quoteString(String(value))}`).join(', ')}}`;
}

/** The CQL name of each type without parameters, by the driver's code (built on first use: the CLI loads the client only when it talks to Cassandra). */
let simpleNames: Record<number, string> | undefined;
function simpleName(code: number): string | undefined {
  const { dataTypes } = types;
  simpleNames ??= {
    [dataTypes.ascii]: 'ascii', [dataTypes.bigint]: 'bigint', [dataTypes.blob]: 'blob', [dataTypes.boolean]: 'boolean',
    [dataTypes.counter]: 'counter', [dataTypes.decimal]: 'decimal', [dataTypes.double]: 'double', [dataTypes.float]: 'float',
    [dataTypes.int]: 'int', [dataTypes.text]: 'text', [dataTypes.varchar]: 'text', [dataTypes.timestamp]: 'timestamp',
    [dataTypes.uuid]: 'uuid', [dataTypes.varint]: 'varint', [dataTypes.timeuuid]: 'timeuuid', [dataTypes.inet]: 'inet',
    [dataTypes.date]: 'date', [dataTypes.time]: 'time', [dataTypes.smallint]: 'smallint', [dataTypes.tinyint]: 'tinyint',
    [dataTypes.duration]: 'duration',
  };
  return simpleNames[code];
}

/**
 * A column type in CQL. Tuples and user types are always written `frozen<…>` (2.1 requires it,
 * later versions accept it); collections only where the driver says they are frozen.
 * @example cqlType({ code: dataTypes.map, info: [{ code: dataTypes.text }, { code: dataTypes.int }] }) // map<text, int>
 */
export function cqlType(type: CqlTypeInfo): string {
  const simple = simpleName(type.code);
  if (simple) return simple;
  const frozen = (inner: string, always = false) => (always || type.options?.frozen ? `frozen<${inner}>` : inner);
  const info = type.info;
  const { dataTypes } = types;
  switch (type.code) {
    case dataTypes.list:
      return frozen(`list<${cqlType(info as CqlTypeInfo)}>`);
    case dataTypes.set:
      return frozen(`set<${cqlType(info as CqlTypeInfo)}>`);
    case dataTypes.map: {
      const [key, value] = info as CqlTypeInfo[];
      return frozen(`map<${cqlType(key)}, ${cqlType(value)}>`);
    }
    case dataTypes.tuple:
      return frozen(`tuple<${(info as CqlTypeInfo[]).map(cqlType).join(', ')}>`, true);
    case dataTypes.udt:
      return frozen(quoteIdentifier((info as { name: string }).name), true);
    case dataTypes.custom:
      return quoteString(String(info));
    default:
      throw new RangeError(`no CQL name for the type with code ${type.code}`);
  }
}
