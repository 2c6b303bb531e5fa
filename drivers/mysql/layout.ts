/**
 * Artifact names inside a MySQL backup, and the facts and consistency point its manifest records.
 * Database and table names are percent-encoded in paths (MySQL allows `.` and other characters that
 * must not become path segments).
 */
import type { ValueEncoding } from './column-codec';

export const ENGINE = 'mysql';

/** The server's own databases: never backed up as user data, never a restore target. */
export const SYSTEM_DATABASES: readonly string[] = ['mysql', 'information_schema', 'performance_schema', 'sys'];

/** Whether `database` is one of {@link SYSTEM_DATABASES} (names compared case-insensitively). */
export const isSystemDatabase = (database: string): boolean => SYSTEM_DATABASES.includes(database.toLowerCase());

const segment = (name: string): string => encodeURIComponent(name).replace(/\./g, '%2E');

/** `schema/<db>.sql`: CREATE DATABASE and CREATE TABLE statements, applied before the data. */
export const schemaArtifact = (database: string): string => `schema/${segment(database)}.sql`;
/** `schema/<db>.post.sql`: views, routines, triggers and events, applied after the data. */
export const postSchemaArtifact = (database: string): string => `schema/${segment(database)}.post.sql`;
/** `schema/users.sql`: CREATE USER and GRANT statements (optional). */
export const USERS_ARTIFACT = 'schema/users.sql';
/** `data/<db>/<table>/<n>.tsv.gz`: one chunk of rows in the LOAD DATA format, gzip-compressed. */
export const chunkArtifact = (database: string, table: string, chunk: number): string =>
  `data/${segment(database)}/${segment(table)}/${String(chunk).padStart(6, '0')}.tsv.gz`;
/** Physical backups: the xbstream of mariabackup/xtrabackup. */
export const PHYSICAL_ARTIFACT = 'physical/backup.xbstream';
/** Archived binary logs. */
export const binlogArtifact = (file: string): string => `binlog/${segment(file)}`;

/** What the manifest says about one table. */
export interface TableFacts {
  database: string;
  table: string;
  /** Storage engine (InnoDB, MyISAM, ...). */
  engine: string;
  rows: number;
  /** {@link TableDigest} of all rows. */
  digest: string;
  /** Chunk artifact names, in order. */
  chunks: string[];
}

/** `facts` of a MySQL backup manifest. */
export interface MysqlFacts {
  mode: 'logical' | 'physical';
  tables: TableFacts[];
  databases: string[];
  /** Schema artifacts (pre and post) per database. */
  schema: Array<{ database: string; pre: string; post: string }>;
  users?: string;
  binlogs?: string[];
  /** How the table digests were computed (table-digest.ts); digests are only compared when it matches. */
  digestAlgorithm?: string;
  /** How chunk files encode values (column-codec.ts); absent in backups of older versions: `server-text`. */
  valueEncoding?: ValueEncoding;
  [key: string]: unknown;
}

/** `consistency` of a MySQL backup manifest: the exact point the backup represents. */
export interface MysqlConsistency {
  flavor: 'mariadb' | 'mysql';
  serverVersion: string;
  /** Binary log coordinates of the snapshot (absent when binary logging is off). */
  binlogFile?: string;
  binlogPosition?: number;
  /** GTID set/position at the snapshot (MariaDB `gtid_binlog_pos`, MySQL `gtid_executed`). */
  gtid?: string;
  /** How long writes were blocked to fix the point, and by what. */
  lockMs: number;
  lock: 'none' | 'backup-stage' | 'flush-tables-with-read-lock';
  [key: string]: unknown;
}
