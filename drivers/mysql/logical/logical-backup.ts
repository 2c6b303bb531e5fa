/**
 * The logical backup of a MySQL/MariaDB server: a consistent dump over the network, written as
 * schema statements and compressed row chunks (chunk-codec.ts) straight to the store (or to the spool, with
 * `streamToStore: false`), and its validation.
 *
 * Order of work (see README.md for the guarantees):
 * 1. control connection: version (refuses unsupported ones), databases, tables and engines;
 * 2. `parallelism` worker connections join one consistent snapshot ({@link openConsistentSnapshot});
 * 3. the workers dump the tables ({@link dumpTables}): non-transactional ones first, under the read
 *    lock, which is released as soon as they are written;
 * 4. meanwhile (once the lock is released) the control connection captures the schema of every
 *    database ({@link captureDatabaseSchema}) and, with `includeUsers`, the accounts.
 */
import { Readable } from 'node:stream';
import type { Connection } from 'mysql2/promise';
import type { ArtifactReader, ArtifactSink } from '../../../core/driver/artifact-sink';
import type { ArtifactRef, BackupContext, SnapshotRef, ValidationCheck } from '../../../core/driver/types';
import { PermanentError, TransientError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import type { MysqlConfig } from '../config';
import { CHUNK_CODEC } from '../shared/chunk-codec';
import { describeServer, openDataConnection, openTextConnection, type ConnectionSettings } from '../shared/connection';
import { openConsistentSnapshot } from '../shared/consistency';
import { ER_NO_SUCH_TABLE, errnoOf, toMysqlError } from '../shared/errors';
import {
  ENGINE, rowsLiveElsewhere, isSystemDatabase, USERS_ARTIFACT, postSchemaArtifact, recordedFacts, schemaArtifact, type MysqlConsistency, type MysqlFacts, type TableFacts,
} from '../shared/layout';
import { assertSchemaReadable, captureDatabaseSchema, captureUsers, formatSchemaStatements, splitSchemaStatements, type DatabaseSchema } from './schema-capture';
import { rowsReadBack } from './chunks-as-written';
import { listProblems } from '../../../core/driver/validation-check';
import type { ChunkStage } from './dump-pipeline';
import { MARKER_TABLE, unfinishedRestoreRefused } from './restore-marker';
import { dumpTables, listTables, type DumpTable } from './dump-planner';
import { tableKey } from '../shared/table-columns';
import { detectServerVersion, type ServerVersion } from '../shared/version';
import { sharedEncodePool } from '../shared/encode-pool';

/** What {@link takeLogicalSnapshot} returns: the spooled artifacts and what they represent. */
export interface LogicalSnapshot {
  artifacts: ArtifactRef[];
  consistency: MysqlConsistency;
  facts: MysqlFacts;
}

/** Test and tuning seams; the backup driver uses the defaults. */
export interface LogicalSnapshotOptions {
  /** An extra stage for each chunk's compressed bytes (failure injection in tests). */
  stage?: ChunkStage;
}

/** A text (utf8mb4) connection for the lock, the status statements and the schema. */
async function openControlConnection(settings: ConnectionSettings, logger: Logger): Promise<Connection> {
  try {
    const connection = await openTextConnection(settings); // no time limit: the catalog of a big schema is slow to read
    connection.on('error', (error: Error) => logger.warn('mysql backup: control connection error', { error: error.message }));
    return connection;
  } catch (error) {
    throw toMysqlError(error, `connecting to ${describeServer(settings)}`, 'MYSQL_CONNECT_FAILED');
  }
}

async function openWorker(settings: ConnectionSettings, logger: Logger, index: number): Promise<Connection> {
  try {
    const connection = await openDataConnection(settings);
    connection.on('error', (error: Error) => logger.warn('mysql backup: worker connection error', { worker: index, error: error.message }));
    return connection;
  } catch (error) {
    throw toMysqlError(error, `opening worker connection ${index} to ${describeServer(settings)}`, 'MYSQL_CONNECT_FAILED');
  }
}

/** Ends a connection politely, or destroys it when that does not finish quickly. */
async function close(connection: Connection | undefined): Promise<void> {
  if (!connection) return;
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    connection.end().then(() => true, () => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 2_000); }),
  ]);
  clearTimeout(timer);
  if (!ended) connection.destroy();
}

/**
 * The databases to back up: `config.databases` (each must exist and be visible), or every
 * database the user can see; minus `excludeDatabases` and the system databases.
 * @throws PermanentError `MYSQL_DATABASE_NOT_FOUND`, `INVALID_INPUT` (a system database asked for),
 *   `MYSQL_NOTHING_TO_BACK_UP` (nothing visible: usually missing privileges).
 */
export async function resolveDatabases(connection: Connection, config: Pick<MysqlConfig, 'databases' | 'excludeDatabases' | 'user'>): Promise<string[]> {
  const [rows] = await connection.query({ sql: 'SHOW DATABASES', rowsAsArray: true }) as [unknown[][], unknown];
  const visible = rows.map((r) => String(r[0]));
  const excluded = new Set(config.excludeDatabases);
  if (config.databases) {
    const system = config.databases.filter((d) => isSystemDatabase(d));
    if (system.length > 0) {
      throw new PermanentError(`system database ${system.join(', ')} cannot be part of a logical backup (accounts are captured with includeUsers)`, { code: 'INVALID_INPUT', engine: ENGINE });
    }
    const missing = config.databases.filter((d) => !visible.includes(d));
    if (missing.length > 0) {
      throw new PermanentError(
        `database ${missing.join(', ')} does not exist or user ${config.user} cannot see it (grant it SELECT, SHOW VIEW, TRIGGER, EVENT on it)`,
        { code: 'MYSQL_DATABASE_NOT_FOUND', engine: ENGINE },
      );
    }
  }
  const chosen = (config.databases ?? visible).filter((d) => !isSystemDatabase(d) && !excluded.has(d));
  if (chosen.length === 0) {
    throw new PermanentError(
      `nothing to back up: user ${config.user} sees no database besides the system ones${excluded.size ? ' and the excluded ones' : ''} (missing privileges?)`,
      { code: 'MYSQL_NOTHING_TO_BACK_UP', engine: ENGINE },
    );
  }
  return [...new Set(chosen)].sort();
}

/**
 * The databases to back up without those holding a restore's marker table: a restore into them did
 * not finish, so they are not a whole copy of anything, and no restore would take the backup (the
 * marker's name is its own). One named in `databases` is refused; one found by backing up every
 * database (a test restore that crashed, say) is left out with a warning, so it does not stop every
 * backup of the server.
 */
function withoutUnfinishedRestores(databases: string[], tables: Array<{ database: string; table: string }>, config: Pick<MysqlConfig, 'databases'>, logger: Logger): string[] {
  const marked = [...new Set(tables.filter((t) => t.table === MARKER_TABLE).map((t) => t.database))];
  const named = marked.filter((d) => config.databases?.includes(d));
  if (named.length > 0) {
    throw unfinishedRestoreRefused(ENGINE, named, 'a database');
  }
  if (marked.length > 0) logger.warn('mysql backup: left out, holding an unfinished restore (not a whole copy)', { databases: marked, marker: MARKER_TABLE });
  return databases.filter((d) => !marked.includes(d));
}

const asText = (statements: string[], comment: string): Readable => Readable.from([Buffer.from(formatSchemaStatements(statements, comment), 'utf8')]);

/** Writes the schema artifacts of one database. */
async function writeSchema(sink: ArtifactSink, schema: DatabaseSchema): Promise<ArtifactRef[]> {
  const pre = await sink.write(schemaArtifact(schema.database), asText(schema.pre,
    `dbbackup pre-schema of database ${schema.database}: CREATE DATABASE and tables; framed statements, see drivers/mysql/logical/schema-capture.ts`));
  const post = await sink.write(postSchemaArtifact(schema.database), asText(schema.post,
    `dbbackup post-schema of database ${schema.database}: routines, views, triggers, events, each after its session settings`));
  return [pre, post];
}

/** Fails when the tables dumped and the tables in the schema differ (DDL between listing and capture). */
function checkSchemaMatches(tables: DumpTable[], schemas: DatabaseSchema[]): void {
  const listed = new Set(tables.map((t) => tableKey(t.database, t.table)));
  const captured = new Set(schemas.flatMap((s) => s.objects.tables.map((t) => tableKey(s.database, t))));
  const differ = [...listed].filter((t) => !captured.has(t)).concat([...captured].filter((t) => !listed.has(t))).map((key) => key.replace('\u0000', '.'));
  if (differ.length > 0) {
    throw new TransientError(`tables changed during the backup (${differ.slice(0, 5).join(', ')}): DDL while backing up; retry the backup`, { code: 'MYSQL_SCHEMA_CHANGED', engine: ENGINE });
  }
}

/**
 * Takes a consistent logical snapshot of the configured databases into `sink` (which the caller
 * has emptied). Never leaves a lock behind: the lock is released and every connection
 * closed whether it succeeds or fails.
 *
 * @throws PermanentError `AUTH_FAILED` (login refused), `MYSQL_PRIVILEGES` (naming the missing
 *   privilege), `UNSUPPORTED_VERSION`, `MYSQL_DATABASE_NOT_FOUND`, `MYSQL_NOTHING_TO_BACK_UP`;
 *   TransientError `MYSQL_UNAVAILABLE` (unreachable, or a connection lost mid-dump), `MYSQL_BUSY`
 *   (lock wait timeout, too many connections), `MYSQL_SCHEMA_CHANGED` (DDL during the backup).
 */
export async function takeLogicalSnapshot(ctx: BackupContext<MysqlConfig>, sink: ArtifactSink, options: LogicalSnapshotOptions = {}): Promise<LogicalSnapshot> {
  const { config, logger } = ctx;
  const started = Date.now();
  let control: Connection | undefined;
  const workers: Connection[] = [];
  let release: (() => Promise<void>) | undefined;
  try {
    // The encoder threads start now, so they are ready by the time the first rows arrive: they boot
    // (~50 ms) while the server answers the catalog queries, instead of after.
    const pool = sharedEncodePool();
    control = await openControlConnection(config, logger);
    const version: ServerVersion = await detectServerVersion(control);
    const visible = await resolveDatabases(control, config);
    await assertSchemaReadable(control, version, visible, logger);
    const listed = await listTables(control, visible);
    const databases = withoutUnfinishedRestores(visible, listed, config, logger);
    if (databases.length === 0) {
      throw new PermanentError(`nothing to back up: every database holds an unfinished restore (${visible.join(', ')})`, { code: 'MYSQL_NOTHING_TO_BACK_UP', engine: ENGINE });
    }
    const tables = listed.filter((t) => databases.includes(t.database));
    const rowsElsewhere = tables.filter((t) => rowsLiveElsewhere(t.engine));
    if (rowsElsewhere.length > 0) {
      logger.info('mysql backup: tables whose rows live elsewhere (FEDERATED, SPIDER, MERGE): their definitions backed up, not their rows', { tables: rowsElsewhere.map((t) => `${t.database}.${t.table}`) });
    }
    const dumpedTables = tables.filter((t) => !rowsLiveElsewhere(t.engine));
    const nonTransactional = dumpedTables.filter((t) => !t.transactional);
    logger.info('mysql backup: starting logical snapshot', {
      server: version.text, databases, tables: dumpedTables.length, nonTransactional: nonTransactional.map((t) => `${t.database}.${t.table}`), parallelism: config.parallelism,
    });

    const opened = await Promise.allSettled(Array.from({ length: config.parallelism }, (_, i) => openWorker(config, logger, i + 1)));
    for (const result of opened) if (result.status === 'fulfilled') workers.push(result.value);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const snapshot = await openConsistentSnapshot(control, workers, version, { nonTransactional: nonTransactional.length > 0, logger, hold: dumpedTables });
    release = snapshot.release;
    logger.info('mysql backup: consistent snapshot open', { ...snapshot.consistency });

    let unlocked!: () => void;
    const lockReleased = new Promise<void>((resolve) => { unlocked = resolve; });
    if (!snapshot.locked) unlocked();
    const dumped = dumpTables(workers, dumpedTables, {
      sink,
      pool,
      chunkRows: config.chunkRows,
      chunkBytes: config.chunkBytes,
      logger,
      signal: ctx.signal,
      stage: options.stage,
      onNonTransactionalDone: async () => {
        await snapshot.release();
        unlocked();
      },
    }).finally(unlocked);
    const schema = (async () => {
      await lockReleased;
      if (snapshot.locked) return undefined; // the dump failed before releasing: it reports the error
      const schemas: DatabaseSchema[] = [];
      const artifacts: ArtifactRef[] = [];
      for (const database of databases) {
        try {
          const captured = await captureDatabaseSchema(control!, version, database);
          schemas.push(captured);
          artifacts.push(...await writeSchema(sink, captured));
        } catch (error) {
          // A table listed that a SHOW CREATE no longer finds: DDL. (Any other error, 1054 included, is
          // a catalog query of ours the server refuses: not worth a new backup.)
          if (errnoOf(error) === ER_NO_SUCH_TABLE) {
            throw new TransientError(`capturing the schema of ${database}: a table disappeared while its definition was read (DDL while backing up: ${(error as Error).message}); retry the backup`,
              { code: 'MYSQL_SCHEMA_CHANGED', engine: ENGINE, cause: error });
          }
          throw toMysqlError(error, `capturing the schema of ${database}`, 'MYSQL_SCHEMA_FAILED');
        }
      }
      if (config.includeUsers) {
        try {
          const users = await captureUsers(control!, version);
          artifacts.push(await sink.write(USERS_ARTIFACT, asText(users.statements, `dbbackup accounts: ${users.accounts.length} (roles and users, then grants)`)));
        } catch (error) {
          throw toMysqlError(error, 'capturing users and grants (needs SELECT on mysql.*)', 'MYSQL_SCHEMA_FAILED');
        }
      }
      return { schemas, artifacts };
    })();
    // Both must settle before returning: neither may keep writing after a failure.
    const [dumpResult, schemaResult] = await Promise.allSettled([dumped, schema]);
    if (dumpResult.status === 'rejected') throw dumpResult.reason;
    if (schemaResult.status === 'rejected') throw schemaResult.reason;
    const tablesDumped = dumpResult.value;
    const captured = schemaResult.value;
    await snapshot.release();
    if (!captured) throw new PermanentError('schema capture did not run', { code: 'MYSQL_SCHEMA_FAILED', engine: ENGINE });
    checkSchemaMatches(tables, captured.schemas);
    const broken = captured.schemas.flatMap((schema) => schema.brokenViews.map((v) => `${schema.database}.${v.name} (${v.problem})`));
    if (broken.length > 0) {
      logger.warn('mysql backup: views the server cannot resolve, backed up as they are (a restore creates them if it can, else goes on without them and says so)', { views: broken });
    }
    const brokenViewsOf = new Map(captured.schemas.map((schema) => [schema.database, schema.brokenViews.map((v) => v.name)]));

    const tableFacts: TableFacts[] = tablesDumped.map((d) => ({
      database: d.table.database,
      table: d.table.table,
      engine: d.table.engine,
      rows: d.rows,
      digest: d.digest,
      chunks: d.chunks.map((c) => c.name),
      columns: d.table.columns,
      ...(d.ranges ? { splitKey: d.table.splitKey, ranges: d.ranges } : {}),
    }));
    const facts: MysqlFacts = {
      mode: 'logical',
      tables: tableFacts,
      databases,
      schema: databases.map((database) => {
        const brokenViews = brokenViewsOf.get(database) ?? [];
        return { database, pre: schemaArtifact(database), post: postSchemaArtifact(database), ...(brokenViews.length > 0 ? { brokenViews } : {}) };
      }),
      ...(config.includeUsers ? { users: USERS_ARTIFACT } : {}),
      ...(rowsElsewhere.length > 0 ? { rowsElsewhere: rowsElsewhere.map((t) => ({ database: t.database, table: t.table, engine: t.engine })) } : {}),
      chunkRows: config.chunkRows,
      compression: CHUNK_CODEC,
    };
    const chunkArtifacts = tablesDumped.flatMap((d) => d.chunks);
    const rows = tableFacts.reduce((sum, t) => sum + t.rows, 0);
    const bytes = chunkArtifacts.reduce((sum, a) => sum + a.size, 0);
    const ms = Date.now() - started;
    logger.info('mysql backup: logical snapshot done', {
      tables: tableFacts.length, rows, chunks: chunkArtifacts.length, compressedBytes: bytes, ms, rowsPerSecond: Math.round(rows / Math.max(ms, 1) * 1000),
      lock: snapshot.consistency.lock, lockMs: snapshot.consistency.lockMs,
    });
    return { artifacts: [...captured.artifacts, ...chunkArtifacts], consistency: snapshot.consistency, facts };
  } catch (error) {
    throw toMysqlError(error, 'logical backup', 'MYSQL_BACKUP_FAILED');
  } finally {
    await release?.().catch((error: unknown) => logger.warn('mysql backup: releasing the lock failed', { error: String(error) }));
    await Promise.all(workers.map((w) => close(w)));
    await close(control);
  }
}

/**
 * Checks a logical snapshot against its facts through `reader` (which checks each artifact's
 * sha256 as it reads it): named checks `schema-present` (the schema files read and parsed),
 * `tables-present` and `rows-read-back` (chunks-as-written.ts). Never throws for a mismatch or a
 * damaged artifact: those are failed checks.
 */
export async function validateLogicalSnapshot(snapshot: SnapshotRef, reader: ArtifactReader): Promise<ValidationCheck[]> {
  const facts = recordedFacts(snapshot);
  const byName = new Map(snapshot.artifacts.map((a) => [a.name, a]));
  const names = new Set(byName.keys());
  const checks: ValidationCheck[] = [];

  // schema-present: every database has readable pre/post files, the pre one creating every table.
  const schemaProblems: string[] = [];
  const readStatements = async (name: string): Promise<string[] | undefined> => {
    if (!names.has(name)) {
      schemaProblems.push(`${name} is not in the snapshot`);
      return undefined;
    }
    try {
      return splitSchemaStatements(await reader.readAll(byName.get(name)!));
    } catch (error) {
      schemaProblems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  for (const database of facts.databases) {
    const entry = facts.schema.find((s) => s.database === database);
    if (!entry) {
      schemaProblems.push(`no schema recorded for database ${database}`);
      continue;
    }
    const pre = await readStatements(entry.pre);
    await readStatements(entry.post);
    if (!pre) continue;
    if (!pre.some((s) => /^CREATE DATABASE\b/i.test(s))) schemaProblems.push(`${entry.pre} has no CREATE DATABASE`);
    const created = new Set(pre.map((s) => /^CREATE\s+(?:TABLE|SEQUENCE)\s+`((?:[^`]|``)+)`/i.exec(s)?.[1].replace(/``/g, '`')).filter((n): n is string => n !== undefined));
    for (const t of facts.tables.filter((x) => x.database === database)) {
      if (!created.has(t.table)) schemaProblems.push(`${entry.pre} does not create table ${t.table}`);
    }
  }
  if (facts.users !== undefined) await readStatements(facts.users);
  checks.push({
    name: 'schema-present',
    ok: schemaProblems.length === 0,
    detail: schemaProblems.length ? listProblems(schemaProblems) : `${facts.schema.length} databases${facts.users ? ' and users' : ''}`,
  });

  // tables-present: every table has chunks, all in the snapshot.
  const missing: string[] = [];
  for (const t of facts.tables) {
    if (t.chunks.length === 0) missing.push(`${t.database}.${t.table} has no chunks`);
    for (const chunk of t.chunks) if (!names.has(chunk)) missing.push(`${t.database}.${t.table}: ${chunk} is missing`);
  }
  checks.push({ name: 'tables-present', ok: missing.length === 0, detail: missing.length ? listProblems(missing) : `${facts.tables.length} tables` });

  checks.push(await rowsReadBack(facts.tables, snapshot.artifacts, reader));
  return checks;
}
