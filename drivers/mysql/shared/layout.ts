/**
 * Artifact names inside a MySQL backup, and the facts and consistency point its manifest records.
 * Database and table names are percent-encoded in paths (MySQL allows `.` and other characters that
 * must not become path segments).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { chunkSuffix } from './chunk-codec';
import type { ValueEncoding } from './column-codec';

export const ENGINE = 'mysql';

/** The server's own databases: never backed up as user data, never a restore target. */
export const SYSTEM_DATABASES: readonly string[] = ['mysql', 'information_schema', 'performance_schema', 'sys'];

/**
 * Whether `database` is one of {@link SYSTEM_DATABASES}, exactly (servers list them in lower case):
 * a server that keeps case may hold a user database `MySQL` or `Sys`, which is backed up like any
 * other. A restore target's name is compared in lower case by its caller, to be safe on any server.
 */
export const isSystemDatabase = (database: string): boolean => SYSTEM_DATABASES.includes(database);

/** Longest path segment a name becomes: file systems allow 255 bytes, and a file's suffix needs room. */
const MAX_SEGMENT = 120;

/** Percent-encoding, of `.` and `~` too: no name encodes to `..`, nor to a long name's shortened form (`<head>~<hash>`). */
const encodeSegment = (name: string): string => encodeURIComponent(name).replace(/\./g, '%2E').replace(/~/g, '%7E');

/** Percent-encoding as names were encoded before `~` was: what binary logs' artifacts are still named by. */
const encodeKeepingTilde = (name: string): string => encodeURIComponent(name).replace(/\./g, '%2E');

/**
 * A name as one path segment: percent-encoded (a dot and a tilde too, so `.` and `..` stay names). A name whose
 * encoding is longer than `max` (64 characters of `é` encode to 384) keeps its first part and
 * gains `~` and a hash of the whole, so it stays unique and fits any file system. A name with an
 * upper-case ASCII letter gains `~` and a shorter hash of itself: a server that keeps case holds
 * `T` and `t` apart, and so must a spool or directory store on a file system that folds case
 * (macOS, Windows), where `T.000000.tsv.zst` would replace `t.000000.tsv.zst`.
 */
function segment(name: string, max = MAX_SEGMENT, encode = encodeSegment, caseApart = true): string {
  const encoded = encode(name);
  const folded = caseApart && /[A-Z]/.test(name);
  if (encoded.length <= max - (folded ? 9 : 0)) return folded ? `${encoded}~${hashOf(name).slice(0, 8)}` : encoded;
  let head = '';
  for (const character of name) {
    const next = encode(character);
    if (head.length + next.length > max - 17) break;
    head += next;
  }
  return `${head}~${hashOf(name).slice(0, 16)}`;
}

const hashOf = (name: string): string => createHash('sha256').update(name).digest('hex');

/** `schema/<db>.sql`: CREATE DATABASE and CREATE TABLE statements, applied before the data. */
export const schemaArtifact = (database: string): string => `schema/${segment(database)}.sql`;
/** `schema/<db>.post.sql`: views, routines, triggers and events, applied after the data. */
export const postSchemaArtifact = (database: string): string => `schema/${segment(database)}.post.sql`;
/** `schema/users.sql`: CREATE USER and GRANT statements (optional). */
export const USERS_ARTIFACT = 'schema/users.sql';
/**
 * `data/<db>/<table>.<range>[-<part>].tsv.zst`: one chunk of rows in the LOAD DATA format,
 * compressed (chunk-codec.ts): part `part` (from 0, left out of the name) of the table's key range
 * `range` (a table read in one stream is range 0). A database's chunks share its folder (the
 * table's name encoded has no dot): a folder per table was a folder to make, sync and list per
 * table — 1 000 small tables took 0.3 s more to back up. (Backups before made one: their
 * manifests name their chunks, so they restore as they are.)
 */
export function chunkArtifact(database: string, table: string, range: number, part = 0): string {
  const suffix = `.${String(range).padStart(6, '0')}${part > 0 ? `-${part}` : ''}${chunkSuffix()}`;
  return `data/${segment(database)}/${segment(table, MAX_SEGMENT - CHUNK_SUFFIX_ROOM)}${suffix}`;
}

/** Room a table's segment leaves for its chunks' suffixes (`.000000-999999.tsv.zst`): the same for every chunk of a table. */
const CHUNK_SUFFIX_ROOM = 24;
/** Physical backups: the xbstream of mariabackup/xtrabackup. */
export const PHYSICAL_ARTIFACT = 'physical/backup.xbstream';
/**
 * Archived binary logs. A replay looks older backups' archives up by this name, so it is encoded
 * as it always was (`~` kept: the server names these files, no table's name shares their folder).
 */
export const binlogArtifact = (file: string): string => `binlog/${segment(file, MAX_SEGMENT, encodeKeepingTilde, false)}`;

/** A decimal integer, as key range bounds are written (and put back into SQL: nothing else may pass). */
const integerLiteral = z.string().regex(/^-?\d{1,20}$/);

/**
 * One key range of a table the dump cut by its integer key: `from <= key < to` (open where absent),
 * the rows and digest of that range, and how many of the table's chunks, in order, hold it.
 */
export const keyRangeFactsSchema = z.object({
  from: integerLiteral.optional(),
  to: integerLiteral.optional(),
  rows: z.number().int().nonnegative(),
  digest: z.string(),
  chunks: z.number().int().positive(),
});
export type KeyRangeFacts = z.infer<typeof keyRangeFactsSchema>;

/** What the manifest says about one table. */
export const tableFactsSchema = z.object({
  database: z.string(),
  table: z.string(),
  /** Storage engine (InnoDB, MyISAM, ...). */
  engine: z.string(),
  rows: z.number().int().nonnegative(),
  /** {@link TableDigest} of all rows. */
  digest: z.string(),
  /** Chunk artifact names, in order (none in a physical backup). */
  chunks: z.array(z.string()),
  /** The columns the chunk files hold, in order, as the dump read them (absent in backups of older versions: the restore asks the target). */
  columns: z.array(z.object({ name: z.string(), generated: z.boolean(), type: z.string() })).optional(),
  /** The integer key column the table was cut by, and its ranges in chunk order (absent: read whole; backups of older versions). */
  splitKey: z.string().optional(),
  ranges: z.array(keyRangeFactsSchema).optional(),
});
export type TableFacts = z.infer<typeof tableFactsSchema>;

/**
 * Engines whose tables hold no rows of their own: FEDERATED and SPIDER read and write another
 * server's tables, MERGE the MyISAM tables it unites (dumped themselves). Their definitions are
 * backed up, their rows not: a restore that loaded them would write them there — into another
 * server, which no restore target names (found by a hostile test: a row deleted on the remote came
 * back). `mysqldump` leaves out the rows of FEDERATED and MERGE tables too.
 */
export const ROWS_ELSEWHERE_ENGINES: ReadonlySet<string> = new Set(['federated', 'spider', 'mrg_myisam', 'mrg_isam']);

/** Whether a table of `engine` holds its rows elsewhere ({@link ROWS_ELSEWHERE_ENGINES}). */
export const rowsLiveElsewhere = (engine: string): boolean => ROWS_ELSEWHERE_ENGINES.has(engine.toLowerCase());

/** `facts` of a MySQL backup manifest (the plugin's `recordSchemas.facts`). */
export const mysqlFactsSchema = z.looseObject({
  mode: z.enum(['logical', 'physical']),
  tables: z.array(tableFactsSchema),
  databases: z.array(z.string()),
  /** Schema artifacts (pre and post) per database, and the views in it the source could not resolve (schema-capture.ts: the restore creates them if it can, else goes on without them). */
  schema: z.array(z.object({ database: z.string(), pre: z.string(), post: z.string(), brokenViews: z.array(z.string()).optional() })),
  users: z.string().optional(),
  /** Tables whose rows live elsewhere ({@link ROWS_ELSEWHERE_ENGINES}): their definitions are in the schema, their rows in no chunk, and a restore neither loads nor compares them. */
  rowsElsewhere: z.array(z.object({ database: z.string(), table: z.string(), engine: z.string() })).optional(),
  binlogs: z.array(z.string()).optional(),
  /** How the table digests were computed (table-digest.ts); digests are only compared when it matches. */
  digestAlgorithm: z.string().optional(),
  /** How chunk files encode values (column-codec.ts); absent in backups of older versions: `server-text`. */
  valueEncoding: z.enum(['exact', 'server-text'] as const satisfies readonly ValueEncoding[]).optional(),
});
export type MysqlFacts = z.infer<typeof mysqlFactsSchema>;

/** `consistency` of a MySQL backup manifest: the exact point the backup represents (the plugin's `recordSchemas.consistency`). */
export const mysqlConsistencySchema = z.looseObject({
  flavor: z.enum(['mariadb', 'mysql']),
  serverVersion: z.string(),
  /** Binary log coordinates of the snapshot (absent when binary logging is off). */
  binlogFile: z.string().optional(),
  binlogPosition: z.number().int().nonnegative().optional(),
  /** GTID set/position at the snapshot (MariaDB `gtid_binlog_pos`, MySQL `gtid_executed`). */
  gtid: z.string().optional(),
  /** How long writes were blocked to fix the point, and by what. */
  lockMs: z.number(),
  lock: z.enum(['none', 'backup-stage', 'flush-tables-with-read-lock']),
});
export type MysqlConsistency = z.infer<typeof mysqlConsistencySchema>;

/** The schema artifacts `facts` names: each database's pre- and post-schema, and the users'. */
export function schemaArtifactsOf(facts: MysqlFacts): string[] {
  return [...facts.schema.flatMap((s) => [s.pre, s.post]), ...(facts.users ? [facts.users] : [])];
}

/** The chunk artifacts `tables` name, table by table in order (a logical dump's, a sharded store's shards'). */
export const chunkArtifactsOf = (tables: ReadonlyArray<Pick<TableFacts, 'chunks'>>): string[] => tables.flatMap((t) => t.chunks);

/**
 * The artifacts a MySQL node's record names, each of which its manifest must list (the plugin's
 * `recordSchemas.artifactsNamed`): the physical copy's stream, the schema artifacts, every table's
 * chunks and the archived binlogs. None for facts that do not parse (checking the record says why).
 */
export function artifactsNamedBy(record: { facts: unknown }): string[] {
  const parsed = mysqlFactsSchema.safeParse(record.facts);
  if (!parsed.success) return [];
  const facts = parsed.data;
  return [...new Set([
    ...(facts.mode === 'physical' ? [PHYSICAL_ARTIFACT] : []),
    ...schemaArtifactsOf(facts),
    ...chunkArtifactsOf(facts.tables),
    ...(facts.binlogs ?? []).map(binlogArtifact),
  ])];
}

/** The facts a snapshot or manifest records, typed (core checked them against the schema already). */
export function recordedFacts(record: { facts: unknown }): MysqlFacts {
  return mysqlFactsSchema.parse(record.facts);
}

/**
 * `facts` with the tables of {@link ROWS_ELSEWHERE_ENGINES} its `tables` list (backups taken before
 * such tables were recorded apart) moved to `rowsElsewhere`: a restore neither loads their rows,
 * which wrote into the server they point at, nor compares them.
 */
export function rowsElsewhereApart(facts: MysqlFacts): MysqlFacts {
  const elsewhere = facts.tables.filter((t) => rowsLiveElsewhere(t.engine));
  if (elsewhere.length === 0) return facts;
  return {
    ...facts,
    tables: facts.tables.filter((t) => !rowsLiveElsewhere(t.engine)),
    rowsElsewhere: [...(facts.rowsElsewhere ?? []), ...elsewhere.map(({ database, table, engine }) => ({ database, table, engine }))],
  };
}

/** The consistency point a snapshot or manifest records, typed (core checked it against the schema already). */
export function recordedConsistency(record: { consistency: unknown }): MysqlConsistency {
  return mysqlConsistencySchema.parse(record.consistency);
}
