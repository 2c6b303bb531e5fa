/**
 * Logical restore of a MySQL/MariaDB backup into a target server:
 *
 * 1. `prepareLogicalTarget` connects (auth → `AUTH_FAILED`, unreachable → transient), maps the
 *    backed-up databases to their target names (`renameDatabases`), refuses a target that lacks a
 *    table's storage engine (target-engines.ts) and target databases that hold tables, views,
 *    routines or events (`TARGET_NOT_EMPTY`) unless forced. It changes nothing.
 * 2. `restoreLogical` downloads every artifact it needs (sha256 re-checked) — all of them BEFORE
 *    touching the target when it replaces databases (`--force`), else while it works — checks the
 *    target allows what the post-schemas and a replay need (target-privileges.ts) and knows the
 *    time zones they set (target-time-zones.ts), drops the
 *    target databases it may drop (see restore-marker.ts for the rule), applies each pre-schema
 *    (CREATE DATABASE under the target name, tables, over several connections), loads the chunks
 *    in parallel with LOAD DATA LOCAL INFILE (chunk-load.ts: a statement per chunk, each table or
 *    key range read back and digested as soon as it is in), creates users.sql's accounts and
 *    roles, applies the post-schemas (views, routines, triggers, events — each enabled event
 *    created held, held-events.ts), then users.sql's grants,
 *    and finally removes its markers — with a point-in-time replay to follow, only once that is
 *    done ({@link finishAfterReplay}).
 * 3. `validateTables` compares every table's presence, row count and digest (those the load read
 *    back, or read now), and the schema objects, with the manifest; then
 *    {@link releaseAfterValidation} enables the events held, when it passed.
 *
 * Renames: names are rewritten as documented in sql-rename.ts — the CREATE DATABASE name and
 * qualified references to renamed databases; references to databases outside the restore (and
 * names inside string literals, e.g. dynamic SQL in routines) are not renamed.
 *
 * Binary logging stays on during the load so replicas of the target follow the restore; foreign key
 * and unique checks are off in the load sessions (the data was consistent at the source).
 */
import { readFile } from 'node:fs/promises';
import type { Connection } from 'mysql2/promise';
import { RESTORE_SERVERS_ENV } from '../../../core/host/restore-roots';
import { Arrivals, both } from '../../../core/concurrency';
import { downloadArtifacts } from '../../../core/driver/download';
import type {
  Json, JsonObject, PreparedTarget, RestoreContext, RestoreResult, TransferOptions, ValidationCheck, ValidationReport,
} from '../../../core/driver/types';
import { nameSome } from '../../../core/name-some';
import { assertTargetEngines } from './target-engines';
import { assertTargetTimeZones } from './target-time-zones';
import { warnOfAbsentDefiners } from './absent-definers';
import { PermanentError, stopIfAborted } from '../../../core/errors';
import { selectArtifacts } from '../shared/artifact-select';
import { columnsOfLoads, expectedRowsOf, loadOrder, loadTables, type LoadResult, type ReadBack, type TableLoad } from './chunk-load';
import { describeServer, quoteId } from '../shared/connection';
import type { MysqlRestoreTarget } from '../config';
import { ENGINE, recordedFacts, rowsElsewhereApart, schemaArtifactsOf, type MysqlFacts } from '../shared/layout';
import { ER_NO_SUCH_TABLE, ER_SP_DOES_NOT_EXIST } from '../shared/errors';
import { assertTargetAllows } from './target-privileges';
import { holdEvents, keepUnpreservedEvents, releaseHeldEvents, stillHeld, type HeldEvent } from './held-events';
import { assertViewSourcesExist } from './target-view-sources';
import { accountsToReplace, assertTargetAuthPlugins, partitionAccounts, replaceAccounts, withAccountsAsCreated } from './target-accounts';
import { createdBySpool, MARKER_TABLE, newRestoreToken, readMarker, recordCreated, removeMarker, writeMarker } from './restore-marker';
import { applyStatements, createDatabaseOf, createTables, finishDeferred, schemaStatements, sequencesOfAllFirst, type DeferredStatement, type MayGoWithout, type Renames } from './schema-apply';
import { objectsCreatedBy } from './sql-rename';
import { definedObject, grantedRoutine, grantedTable, objectsDefinedBy, type SchemaObjects } from '../shared/schema-objects';
import { createdTable } from './sql-rename';
import { classifyTargetError, openSchemaConnection } from '../shared/target-connection';
import {
  assertTargetKeepsNames, describeState, effectiveRenames, holdsObjects, inspectDatabases, mapDatabases, type DatabaseMapping,
} from './target-databases';
import { validateRestoredTables } from './restore-validation';
import { tableKey, type ColumnInfo } from '../shared/table-columns';
import { DIGEST_ALGORITHM } from '../shared/table-digest';
import { describeVersion, detectServerVersion, heldEventStatus, type ServerVersion } from '../shared/version';

type Ctx = RestoreContext<MysqlRestoreTarget>;

/** The manifest facts of a logical backup. @throws PermanentError `INVALID_BACKUP` when they are not. */
export function logicalFacts(ctx: Ctx): MysqlFacts {
  const facts = recordedFacts(ctx.backup);
  if (facts?.mode !== 'logical' || !Array.isArray(facts.tables) || !Array.isArray(facts.databases) || !Array.isArray(facts.schema)) {
    throw new PermanentError(`backup ${ctx.backup.backupId} is not a logical MySQL backup (facts.mode = ${String(facts?.mode)})`, { code: 'INVALID_BACKUP', engine: ENGINE });
  }
  const marked = facts.tables.find((t) => t.table === MARKER_TABLE);
  if (marked) {
    throw new PermanentError(`backup ${ctx.backup.backupId} holds a table named ${MARKER_TABLE}, the restore's own marker name`, { code: 'INVALID_BACKUP', engine: ENGINE });
  }
  return rowsElsewhereApart(facts);
}

function targetNotEmpty(ctx: Ctx, described: string[]): PermanentError {
  return new PermanentError(
    `restore target ${describeServer(ctx.target)} already holds data in ${described.join(', ')}; refusing to overwrite it — `
    + `pass --force to replace these databases (allowed on the servers this host's ${RESTORE_SERVERS_ENV} names), or restore under other names with renameDatabases`,
    { code: 'TARGET_NOT_EMPTY', engine: ENGINE },
  );
}

/** Runs `fn` on a schema connection to the target; errors are classified, prefixed with `doing`. */
async function withSchemaConnection<T>(ctx: Ctx, doing: string, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await openSchemaConnection(ctx.target);
  try {
    return await fn(connection);
  } catch (error) {
    throw classifyTargetError(error, doing);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/**
 * Checks the target can take the restore: reachable with these credentials, LOAD DATA LOCAL
 * allowed, and every target database absent or empty — or `ctx.force`, in which case the databases
 * to replace are noted (and dropped by {@link restoreLogical}, after the downloads are verified).
 * Never changes the target. Returns the restore token that lets a retried restore recognise its
 * own unfinished work.
 * @throws PermanentError `TARGET_NOT_EMPTY`, `AUTH_FAILED`, `INVALID_INPUT`, `UNSUPPORTED_VERSION`, `MYSQL_LOCAL_INFILE_DISABLED`;
 *   TransientError `MYSQL_UNAVAILABLE`.
 */
export async function prepareLogicalTarget(ctx: Ctx): Promise<PreparedTarget> {
  const facts = logicalFacts(ctx);
  const mappings = mapDatabases(facts, ctx.target.renameDatabases);
  return withSchemaConnection(ctx, `preparing restore target ${describeServer(ctx.target)}`, async (connection) => {
    const version = await detectServerVersion(connection);
    const [[server]] = await connection.query('SELECT @@local_infile AS localInfile') as [Array<{ localInfile: number | string }>, unknown];
    if (Number(server.localInfile) !== 1) {
      throw new PermanentError(
        `restore target ${describeServer(ctx.target)} has local_infile disabled; the logical restore loads data with LOAD DATA LOCAL INFILE — enable it (SET GLOBAL local_infile = 1)`,
        { code: 'MYSQL_LOCAL_INFILE_DISABLED', engine: ENGINE },
      );
    }
    const everyTable = [...facts.tables, ...(facts.rowsElsewhere ?? [])];
    await assertTargetKeepsNames(connection, mappings, everyTable, describeServer(ctx.target));
    await assertTargetEngines(connection, everyTable, describeServer(ctx.target));
    const states = await inspectDatabases(connection, mappings.map((m) => m.target));
    const occupied = states.filter(holdsObjects);
    if (occupied.length > 0 && !ctx.force) throw targetNotEmpty(ctx, occupied.map(describeState));
    if (occupied.length > 0) {
      ctx.logger.warn('mysql restore: --force given, these databases will be replaced once the backup is downloaded and verified', {
        databases: occupied.map(describeState),
      });
    }
    return {
      details: {
        restoreToken: newRestoreToken(),
        serverVersion: describeVersion(version),
        databases: mappings.map((m) => ({ source: m.source, target: m.target })),
        replace: occupied.map((s) => s.name),
      },
    };
  });
}

/**
 * Drops the target databases this restore may drop (empty ones, `--force`, or its own unfinished
 * work), right before recreating them.
 * @throws PermanentError `TARGET_NOT_EMPTY` when a database gained data since prepare.
 */
async function clearTargets(ctx: Ctx, connection: Connection, mappings: DatabaseMapping[], token: string): Promise<void> {
  const states = await inspectDatabases(connection, mappings.map((m) => m.target));
  const ours = await createdBySpool(ctx.spoolDir, token);
  const refused: string[] = [];
  const drop: string[] = [];
  for (const state of states) {
    if (!state.exists) continue;
    const mine = state.marked && (await readMarker(connection, state.name)) === token;
    if (!holdsObjects(state) || ctx.force || mine || ours.has(state.name)) drop.push(state.name);
    else refused.push(describeState(state));
  }
  if (refused.length > 0) throw targetNotEmpty(ctx, refused);
  for (const name of drop) {
    ctx.logger.info('mysql restore: dropping target database', { database: name, force: ctx.force });
    await connection.query(`DROP DATABASE ${quoteId(name)}`);
  }
}

/**
 * Downloads at once, at least: a schema of many small tables is many small files, each a round trip
 * or two to the store (1 000 tables from a local directory: 2.6 s two at a time, 1.8 s eight at a
 * time, 1.5 s sixteen; from S3 25 ms away, 5.5 s eight at a time, 3.9 s sixteen). Each streams to
 * its file: memory does not grow with it.
 */
const DOWNLOADS_IN_FLIGHT = 16;

/** From this many tables on, a restore creates them over several connections (fewer: one is as quick). */
export const MANY_TABLES = 32;

/**
 * Downloads (sha256 re-checked) and applies a logical backup to the prepared target. Idempotent:
 * a retry re-downloads only what is missing from the spool, drops the databases this restore
 * created (recognised by its marker) and starts again.
 *
 * The downloads come in the order the load takes them. A forced restore replaces databases, so
 * everything is downloaded and verified before the target is touched; otherwise nothing on the
 * target can be lost (its databases are absent, empty or this restore's own unfinished work), and
 * the tables are created and loaded while the rest downloads — a download that fails stops the
 * load, and the restore fails with it (its databases dropped by the restore's cleanup). For the
 * same reason an unforced restore from a local directory store reads the store's own files,
 * verified in place, rather than copies of them (download.ts `inPlace`) — when it reads back what
 * it loaded (so a file changed after it was verified cannot go unnoticed) and is not rate-limited.
 * @returns endpoint `{ host, port, databases, renames, objects, tables, rows, readBack?, viewsLeftOut? }`; `objects`
 *   lists the schema objects per target database that validation expects, `readBack` what the load
 *   read back as it went (chunk-load.ts {@link ReadBack}), `viewsLeftOut` the views the source
 *   could not resolve (recorded by the backup) that the target would not create either.
 */
export async function restoreLogical(ctx: Ctx, prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
  const started = Date.now();
  const facts = logicalFacts(ctx);
  const token = prepared.details.restoreToken;
  if (typeof token !== 'string') throw new PermanentError('restore target not prepared by the logical MySQL restore (no restore token)', { code: 'STEP_ORDER', engine: ENGINE });
  const mappings = mapDatabases(facts, ctx.target.renameDatabases);
  const targetOf = new Map(mappings.map((m) => [m.source, m.target]));
  // Each table (or key range) is read back as soon as it is loaded — unless a replay is to change
  // the rows after, or the digests were made another way (then the validation reads them).
  const proveWhileLoading = !ctx.target.pointInTime && facts.digestAlgorithm === DIGEST_ALGORITHM;
  const loads: TableLoad[] = facts.tables.map((t) => ({
    database: targetOf.get(t.database) ?? t.database,
    table: t.table,
    engine: t.engine,
    rows: t.rows,
    files: t.chunks,
    ...(proveWhileLoading ? { expected: expectedRowsOf(t) } : {}),
  }));

  const needed = [...new Set([...schemaArtifactsOf(facts), ...loadOrder(loads)])];
  const artifacts = selectArtifacts(ctx.backup.artifacts, needed);
  const arrivals = new Arrivals<string>();
  const download = async (signal?: AbortSignal) => {
    ctx.logger.info('mysql restore: downloading', { artifacts: artifacts.length, bytes: artifacts.reduce((sum, a) => sum + a.size, 0) });
    try {
      const downloaded = await downloadArtifacts(artifacts, ctx.spoolDir, {
        ...transfer, concurrency: Math.max(ctx.target.parallelism, DOWNLOADS_IN_FLIGHT), onFile: arrivals.arrive, signal, inPlace: !ctx.force && proveWhileLoading,
      });
      ctx.logger.info('mysql restore: downloaded', { artifacts: artifacts.length, ms: Date.now() - started });
      return downloaded;
    } catch (error) {
      arrivals.fail(error);
      throw error;
    }
  };
  const storedName = new Map(needed.map((name, i) => [name, artifacts[i].name]));
  const fileOf = (name: string): Promise<string> => arrivals.of(storedName.get(name)!);
  const apply = (signal?: AbortSignal) => applyLogical(ctx, { facts, mappings, loads, token, fileOf, signal, started });

  let bytes: number;
  let applied: Applied;
  if (ctx.force) {
    ({ bytes } = await download(ctx.signal));
    applied = await apply(ctx.signal);
  } else {
    [{ bytes }, applied] = await both(download, apply, ctx.signal);
  }

  const durationMs = Date.now() - started;
  const { rows, readBack, objects, viewsLeftOut, eventsHeld } = applied;
  ctx.logger.info('mysql restore: done', { rows, bytes, durationMs, rowsPerSecond: Math.round(rows / Math.max(durationMs / 1000, 0.001)) });
  return {
    endpoint: {
      host: ctx.target.socketPath ?? ctx.target.host,
      port: ctx.target.port,
      databases: mappings.map((m) => m.target),
      renames: effectiveRenames(mappings),
      objects: objects as unknown as JsonObject,
      tables: facts.tables.length,
      rows,
      ...(readBack ? { readBack: readBack as unknown as JsonObject } : {}),
      ...(viewsLeftOut.length > 0 ? { viewsLeftOut } : {}),
      ...(eventsHeld.length > 0 ? { eventsHeld: eventsHeld as unknown as JsonObject[] } : {}),
    } satisfies Record<string, Json>,
    bytes,
    durationMs,
  };
}

/**
 * Up to `count` more schema connections, as many as the target lets this user open besides the
 * load's (a connection limit leaves the creation to fewer: it is only quicker with them).
 */
async function moreLanes(ctx: Ctx, count: number): Promise<Connection[]> {
  const lanes: Connection[] = [];
  for (let i = 0; i < count; i += 1) {
    try {
      lanes.push(await openSchemaConnection(ctx.target));
    } catch (error) {
      ctx.logger.warn('mysql restore: creating the tables over fewer connections', { connections: lanes.length + 1, error: error instanceof Error ? error.message : String(error) });
      break;
    }
  }
  return lanes;
}

/** What {@link applyLogical} works from: the backup's facts, where its databases go, the loads, and each artifact's local file once it is there. */
interface ApplyPlan {
  facts: MysqlFacts;
  mappings: DatabaseMapping[];
  loads: TableLoad[];
  token: string;
  fileOf(name: string): Promise<string>;
  signal?: AbortSignal;
  /** When the restore began (the times it logs count from there). */
  started: number;
}

interface Applied {
  rows: number;
  readBack?: ReadBack;
  objects: Record<string, SchemaObjects>;
  /** Views the source could not resolve, which the target would not create either (`db.view`): left out. */
  viewsLeftOut: string[];
  /** Enabled events created held, until the restore is proven. */
  eventsHeld: HeldEvent[];
}

/**
 * Applies the backup to the target: replaces what may be replaced, creates the databases (marked
 * as this restore's) and their tables, loads the rows, then the views, routines, triggers, events
 * and users, and removes the markers.
 */
async function applyLogical(ctx: Ctx, plan: ApplyPlan): Promise<Applied> {
  const { facts, mappings, token } = plan;
  const parallelism = ctx.target.parallelism;
  // Each schema artifact read and split once: the post-schemas are read before the first write (the checks) and applied after the load.
  const parsed = new Map<string, Promise<string[]>>();
  const statementsOf = (name: string): Promise<string[]> => {
    let statements = parsed.get(name);
    if (!statements) parsed.set(name, statements = plan.fileOf(name).then((file) => readFile(file)).then(schemaStatements));
    return statements;
  };
  const where = `restoring ${ctx.backup.backupId} into ${describeServer(ctx.target)}`;
  const schemaOf = new Map(facts.schema.map((s) => [s.database, s]));
  const started = plan.started;
  /** The renames, with what each renamed database defines: `shop.total` is then a column of a table or alias `shop`, not database shop's object (sql-rename.ts). */
  const withObjects = async (): Promise<Renames> => {
    const objects = new Map<string, Set<string>>();
    for (const { source, target } of mappings) {
      const schema = schemaOf.get(source);
      if (source === target || !schema) continue;
      objects.set(source, objectsCreatedBy([...await statementsOf(schema.pre), ...await statementsOf(schema.post)]));
    }
    return { databases: effectiveRenames(mappings), objects };
  };

  // 1. Replace what may be replaced; create the databases, marked as this restore's.
  // 2. The tables, and their rows in parallel. With the columns the dump recorded, each table is
  //    loaded as soon as it is created (one connection creates them, in file order, while the
  //    others load); a backup that did not record them creates every table first (over
  //    `parallelism` connections) and asks the target for the columns.
  stopIfAborted(plan.signal, 'restore', ENGINE); // (a failed download aborts it: the restore fails with the download's error)
  const total = facts.tables.reduce((s, t) => s + t.rows, 0);
  let lastLog = Date.now();
  const load = (columns: Map<string, ColumnInfo[]>, signal: AbortSignal | undefined, ready?: (load: TableLoad) => Promise<void>) => loadTables(ctx.target, plan.loads, columns, {
    started,
    encoding: facts.valueEncoding ?? 'server-text',
    parallelism,
    logger: ctx.logger,
    signal,
    localFile: plan.fileOf,
    ready,
    onChunk: (done) => {
      if (Date.now() - lastLog < 5_000) return;
      lastLog = Date.now();
      ctx.logger.info('mysql restore: loading', { rows: done.rows, of: total, chunks: done.chunks });
    },
  });
  const tablesCreated = () => ctx.logger.info('mysql restore: tables created', { tables: plan.loads.length, ms: Date.now() - started });

  const connection = await openSchemaConnection(ctx.target);
  let closing: Promise<void> | undefined;
  /** The schema connection is closed as soon as the tables exist: the load may outlast its idle timeout, and it is one more connection. */
  const closeSchema = () => (closing ??= connection.end().catch(() => undefined));
  const rests: Array<[DatabaseMapping, string[]]> = [];
  let version!: ServerVersion;
  let renames!: Renames;
  let users: string[] = [];
  let replacedAccounts: string[] = [];
  try {
    // Before the first write: what the post-schema (applied only after every row is loaded) and a
    // replay need. Views the source could not resolve may be left out (below): they need nothing.
    const posts = (await Promise.all(mappings.flatMap((m) => schemaOf.get(m.source) ?? []).map(async (schema) => {
      const broken = new Set(schema.brokenViews ?? []);
      return (await statementsOf(schema.post)).filter((statement) => {
        const defined = definedObject(statement);
        return !(defined?.kind === 'view' && broken.has(defined.name));
      });
    }))).flat();
    version = await detectServerVersion(connection);
    await assertTargetAllows(connection, version, { statements: posts, replay: ctx.target.pointInTime !== undefined }, where, ctx.logger);
    await assertTargetTimeZones(connection, posts, where);
    await assertViewSourcesExist(connection, posts, new Set(mappings.map((m) => m.source)), describeServer(ctx.target));
    await warnOfAbsentDefiners(connection, posts, facts.users !== undefined, ctx.logger);
    users = facts.users ? await statementsOf(facts.users) : [];
    await assertTargetAuthPlugins(connection, users, describeServer(ctx.target));
    replacedAccounts = await accountsToReplace(connection, users, ctx.force, describeServer(ctx.target));
    renames = await withObjects();
    await clearTargets(ctx, connection, mappings, token);
    for (const mapping of mappings) {
      const source = schemaOf.get(mapping.source);
      const statements = source ? await statementsOf(source.pre) : [];
      rests.push([mapping, await createDatabaseOf(connection, statements, mapping, renames, async () => {
        await writeMarker(connection, mapping.target, token, ctx.backup.backupId);
        await recordCreated(ctx.spoolDir, token, mapping.target);
      })]);
    }
  } catch (error) {
    await closeSchema();
    throw classifyTargetError(error, where);
  }

  let loaded: LoadResult;
  try {
    // Each table loaded as soon as it exists, when the dump recorded the columns and the pre-schema
    // creates every table loaded (else the old way, which fails naming a missing table).
    const announced = new Set(rests.flatMap(([mapping, rest]) => rest.flatMap((statement) => {
      const table = createdTable(statement);
      return table === undefined ? [] : [tableKey(mapping.target, table)];
    })));
    const pipelined = facts.tables.every((t) => t.columns !== undefined) && plan.loads.every((l) => announced.has(tableKey(l.database, l.table)));
    if (pipelined) {
      const created = new Arrivals<void>();
      const createAll = async (signal: AbortSignal) => {
        const stopped = () => created.fail(new PermanentError('restore aborted', { code: 'ABORTED', engine: ENGINE }));
        signal.addEventListener('abort', stopped, { once: true });
        const lanes: Connection[] = [];
        try {
          // Many tables: created over `parallelism` connections at once (the server syncs each
          // table's files; one connection waits for every sync in turn), loaded as each exists.
          if (plan.loads.length >= MANY_TABLES) lanes.push(...await moreLanes(ctx, parallelism - 1));
          for (const [mapping, part] of sequencesOfAllFirst(rests)) {
            await createTables(connection, part, mapping, renames, { lanes, signal, onCreated: (table) => created.arrive(tableKey(mapping.target, table), undefined) });
          }
          tablesCreated();
        } catch (error) {
          created.fail(error);
          throw classifyTargetError(error, where);
        } finally {
          signal.removeEventListener('abort', stopped);
          await Promise.all(lanes.map((lane) => lane.end().catch(() => undefined)));
          await closeSchema();
        }
      };
      const columns = new Map(plan.loads.map((l, i) => [tableKey(l.database, l.table), facts.tables[i].columns!]));
      [, loaded] = await both(createAll, (signal) => load(columns, signal, (l) => created.of(tableKey(l.database, l.table))), plan.signal);
    } else {
      const lanes: Connection[] = [];
      let columns: Map<string, ColumnInfo[]>;
      try {
        for (let i = 1; i < parallelism; i += 1) lanes.push(await openSchemaConnection(ctx.target));
        for (const [mapping, part] of sequencesOfAllFirst(rests)) await createTables(connection, part, mapping, renames, { lanes });
        columns = await columnsOfLoads(connection, plan.loads);
      } catch (error) {
        throw classifyTargetError(error, where);
      } finally {
        await Promise.all(lanes.map((lane) => lane.end().catch(() => undefined)));
        await closeSchema();
      }
      tablesCreated();
      loaded = await load(columns, plan.signal);
    }
  } finally {
    await closeSchema();
  }

  // 3. Accounts; views, routines, triggers, events; grants; then what had to wait for others; and done:
  //    the databases are no longer an unfinished restore. (A new connection: the load may have
  //    outlasted the server's idle timeout.)
  const objects: Record<string, SchemaObjects> = {};
  const viewsLeftOut: string[] = [];
  // Views the source could not resolve (the backup warned of them), and grants on them, may be
  // left out should the target refuse them too; so may the backup's accounts' grants on tables and
  // routines of databases this restore does not bring (users.sql holds every account's grants, a
  // dropped table's that linger included), which the target has no table or routine for. Anything
  // else the target refuses fails the restore.
  const brokenOf = new Map(mappings.map((m) => [m.target, new Set(schemaOf.get(m.source)?.brokenViews ?? [])]));
  const isBroken = (database: string | undefined, name: string) => database !== undefined && (brokenOf.get(database)?.has(name) ?? false);
  const mayGoWithout: MayGoWithout = ({ statement, database, error }) => {
    const defined = definedObject(statement);
    if (defined) return defined.kind === 'view' && isBroken(database, defined.name);
    const errno = (error as { errno?: number }).errno;
    const routine = grantedRoutine(statement);
    if (routine) return !brokenOf.has(routine.database) && errno === ER_SP_DOES_NOT_EXIST;
    const granted = grantedTable(statement);
    if (granted === undefined) return false;
    return isBroken(granted.database, granted.name) || (!brokenOf.has(granted.database) && errno === ER_NO_SUCH_TABLE);
  };
  // Enabled events are created held, and enabled once the restore is proven (held-events.ts).
  const eventsHeld: HeldEvent[] = [];
  await withSchemaConnection(ctx, where, async (connection) => {
    const pending: DeferredStatement[] = [];
    // The accounts (roles too) before the objects, their grants after (a grant may name a routine):
    // an object whose definer is a role says `DEFINER=`role`` (no host), which a server without
    // that role yet takes for the user `role`@`%` (found by a hostile test: views, routines and
    // events defined by a role came back defined by an account that does not exist).
    const [accounts, grants] = partitionAccounts(withAccountsAsCreated(users)); // none without users.sql
    if (facts.users) {
      if (replacedAccounts.length > 0) ctx.logger.warn('mysql restore: --force given, replacing accounts the target held otherwise', { accounts: replacedAccounts });
      await replaceAccounts(connection, replacedAccounts);
      pending.push(...await applyStatements(connection, accounts, { renames, where: 'users', mayGoWithout }));
    }
    for (const mapping of mappings) {
      const schema = schemaOf.get(mapping.source);
      const statements = schema ? await statementsOf(schema.post) : [];
      objects[mapping.target] = objectsDefinedBy(statements);
      const held = keepUnpreservedEvents(holdEvents(statements, mapping.target, heldEventStatus(version), eventsHeld));
      pending.push(...await applyStatements(connection, held, { database: mapping.target, renames, where: `post-schema of ${mapping.source}`, mayGoWithout }));
    }
    if (facts.users) pending.push(...await applyStatements(connection, grants, { renames, where: 'users', mayGoWithout }));
    const leftOut = await finishDeferred(connection, pending, mayGoWithout);
    for (const item of leftOut) {
      const view = definedObject(item.statement);
      if (!view) continue; // a grant on one
      objects[item.database!].view = objects[item.database!].view.filter((v) => v !== view.name);
      viewsLeftOut.push(`${item.database}.${view.name}`);
    }
    if (leftOut.length > 0) {
      ctx.logger.warn('mysql restore: left out views the source could not resolve either (the backup warned of them), grants on them, and grants on tables and routines of databases this restore does not bring that the target lacks; everything else is restored', {
        statements: leftOut.map((item) => `${item.statement.replace(/\s+/g, ' ').slice(0, 120)} (${item.error instanceof Error ? item.error.message : String(item.error)})`),
      });
    }
    // A replay to follow: the databases are unfinished until it is done (finishAfterReplay).
    if (!ctx.target.pointInTime) for (const mapping of mappings) await removeMarker(connection, mapping.target);
  });
  return { rows: loaded.rows, readBack: loaded.readBack, objects, viewsLeftOut, eventsHeld };
}

/**
 * Once the replay that follows a logical restore is done: removes the markers {@link restoreLogical}
 * left for it, so that a replay that failed leaves databases known unfinished.
 */
export async function finishAfterReplay(ctx: Ctx, result: RestoreResult): Promise<RestoreResult> {
  const databases = result.endpoint.databases as string[];
  await withSchemaConnection(ctx, `finishing the restore on ${describeServer(ctx.target)} after the replay`, async (connection) => {
    for (const database of databases) await removeMarker(connection, database);
  });
  return result;
}

/**
 * After the validation of a logical restore: check `events-enabled`, when {@link restoreLogical}
 * held events (the result's endpoint, `eventsHeld`). A validation that passed has them enabled, each
 * still held (held-events.ts: not one a replay dropped or set the status of); one that failed
 * leaves them held (kept, not run) and says how to enable them once the data is checked.
 */
export async function releaseAfterValidation(ctx: Ctx, result: RestoreResult, report: ValidationReport): Promise<ValidationCheck[]> {
  const held = (result.endpoint.eventsHeld ?? []) as unknown as HeldEvent[];
  if (held.length === 0) return [];
  const named = (events: HeldEvent[]) => nameSome(events.map((e) => `${e.database}.${e.name}`));
  return withSchemaConnection(ctx, `enabling the restored events on ${describeServer(ctx.target)}`, async (connection): Promise<ValidationCheck[]> => {
    if (!report.ok) {
      const still = await stillHeld(connection, held);
      return still.length === 0 ? [] : [{
        name: 'events-enabled',
        ok: false,
        detail: `left held (disabled on the replica side: kept, not run), as the restore did not validate: event ${named(still)}; once the data is checked, enable each with ALTER DEFINER=<its definer> EVENT … ENABLE`,
      }];
    }
    const { enabled, alreadyEnabled } = await releaseHeldEvents(connection, held);
    const kept = held.length - enabled.length - alreadyEnabled.length;
    return [{
      name: 'events-enabled',
      ok: true,
      detail: `${enabled.length} of ${held.length} events, created held so none ran before the restore was proven, enabled after it${enabled.length ? `: ${named(enabled)}` : ''}`
        + `${alreadyEnabled.length ? `; ${alreadyEnabled.length} found enabled already (by the replay, or an earlier attempt of this step): ${named(alreadyEnabled)}` : ''}`
        + `${kept ? `; ${kept} left as the replay set or dropped them` : ''}`,
    }];
  });
}

/**
 * Proves a logical restore: checks `tables-present`, `row-counts`, `table-digests` (the same digest
 * the dump recorded, read back from the target) and `schema-objects` (views, triggers, routines and
 * events the post-schema defines exist by name). Read-only; reports mismatches, never throws for one.
 */
export async function validateTables(ctx: Ctx, result: RestoreResult): Promise<ValidationCheck[]> {
  return validateRestoredTables(ctx, result);
}
