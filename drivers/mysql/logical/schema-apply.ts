/**
 * Applies the schema artifacts of a logical backup to the target, statement by statement:
 * - pre-schema (`schema/<db>.sql`, before the data): `CREATE DATABASE` under the target name, then
 *   (after the caller's hook, which places the restore marker) the tables, with `USE <target>`;
 * - post-schema (`schema/<db>.post.sql`, after the data): views, routines, triggers and events with
 *   the session settings the file sets before each; a statement that fails because an object it
 *   needs is defined later (a view on a view, across databases too) is retried after the others;
 * - users (`schema/users.sql`): CREATE USER and GRANT statements.
 *
 * With `renameDatabases`, names are rewritten by {@link renameDatabases} (see there for what is and
 * is not renamed: references to databases outside the restore, and names inside string literals,
 * keep their original text).
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError, stopIfAborted } from '../../../core/errors';
import { quoteId } from '../shared/connection';
import { ENGINE } from '../shared/layout';
import { splitSchemaStatements } from './schema-capture';
import { createdDatabase, createdTable, renameDatabases, type RenamedObjects } from './sql-rename';
import { statementModeNamed, type StatementMode } from '../shared/statement-mode';
import { SCHEMA_SESSION, classifyTargetError } from '../shared/target-connection';
import type { DatabaseMapping } from './target-databases';

/** A restore's database renames (source → target), with what each renamed database defines (sql-rename.ts). */
export interface Renames {
  readonly databases: Readonly<Record<string, string>>;
  readonly objects?: RenamedObjects;
}

const renamed = (sql: string, renames: Renames, mode: StatementMode = {}): string => renameDatabases(sql, renames.databases, renames.objects, mode);

/** The SQL mode a `SET SESSION sql_mode = '…'` statement sets (as schema-capture.ts writes it), or undefined for any other statement. */
const setsSqlMode = (sql: string): string | undefined => /^\s*SET\s+SESSION\s+sql_mode\s*=\s*'([^']*)'\s*$/i.exec(sql)?.[1];

/** Server errors meaning "something this statement refers to does not exist (yet)". */
const MISSING_DEPENDENCY = new Set([
  1146, // ER_NO_SUCH_TABLE
  1356, // ER_VIEW_INVALID
  1305, // ER_SP_DOES_NOT_EXIST
  1449, // ER_NO_SUCH_USER (definer created later in users.sql)
]);

const head = (sql: string): string => {
  const text = sql.replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
};

/** True for statements that only change session state (`SET ...`, `/*!40101 SET ... *\/`). */
function isSessionStatement(sql: string): boolean {
  return /^(?:\s|\/\*M?!\d*)*SET\b/i.test(sql);
}

async function execute(connection: Connection, sql: string, where: string): Promise<void> {
  try {
    await connection.query(sql);
  } catch (error) {
    throw classifyTargetError(error, `${where}: statement failed (${head(sql)})`, 'MYSQL_SCHEMA_FAILED');
  }
}

/** Splits a schema artifact (schema-capture.ts framing); empty statements are dropped. */
export function schemaStatements(text: string | Buffer): string[] {
  return splitSchemaStatements(text).filter((statement) => statement.trim().length > 0);
}

/** Statements of a pre-schema that depend on nothing else in it, so may run in any order. */
const INDEPENDENT = /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|SEQUENCE)\b/i;
/**
 * A table with a foreign key: created after the others, one at a time — creating it locks the
 * table it references (MySQL 8 even with foreign key checks off), and two such tables created at
 * once can deadlock each other.
 */
const REFERENCES = /\bREFERENCES\b/i;

/**
 * Runs those of `statements` that `pick` picks (the tables of one database; session statements
 * among them) over `lanes`, each taking the next one; a lane replays the session statements that
 * precede a statement it runs, in file order, so every statement runs in the session the file
 * gives it. The first failure stops the others from taking more, and is thrown once every lane
 * has stopped.
 */
async function inLanes(
  lanes: Connection[], statements: string[], pick: (statement: string) => boolean, database: string, renames: Renames, where: string,
  onRun: (statement: string) => void, signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  await Promise.allSettled(lanes.map(async (lane) => {
    try {
      await execute(lane, SCHEMA_SESSION, where);
      await execute(lane, `USE ${quoteId(database)}`, where);
      let replayed = 0;
      while (failure === undefined && next < statements.length) {
        stopIfAborted(signal, 'restore', ENGINE);
        const index = next++;
        if (isSessionStatement(statements[index]) || !pick(statements[index])) continue;
        for (; replayed < index; replayed += 1) {
          if (isSessionStatement(statements[replayed])) await execute(lane, renamed(statements[replayed], renames), where);
        }
        await execute(lane, renamed(statements[index], renames), where);
        onRun(statements[index]);
      }
    } catch (error) {
      failure ??= { error };
    }
  }));
  if (failure) throw failure.error;
}

/**
 * Creates the database of a pre-schema under its target name (its own `CREATE DATABASE`, or a
 * plain one when the file has none); `afterCreate` runs once it exists and before any table is
 * created (the restore places its marker there). Returns the statements left to run — the tables
 * — with the file's session statements before them, for {@link createTables}.
 */
export async function createDatabaseOf(
  connection: Connection,
  statements: string[],
  mapping: DatabaseMapping,
  renames: Renames,
  afterCreate: () => Promise<void>,
): Promise<string[]> {
  const where = `pre-schema of ${mapping.source}`;
  await execute(connection, SCHEMA_SESSION, where);
  let created = false;
  const create = async (sql: string) => {
    await execute(connection, sql, where);
    await execute(connection, `USE ${quoteId(mapping.target)}`, where);
    await afterCreate();
    created = true;
  };
  let index = 0;
  for (; index < statements.length && !created; index += 1) {
    const statement = statements[index];
    const database = createdDatabase(statement);
    if (database !== undefined) {
      if (database !== mapping.source) throw new PermanentError(`${where}: unexpected statement ${head(statement)}`, { code: 'SCHEMA_INVALID', engine: ENGINE });
      await create(renamed(statement, renames));
    } else if (isSessionStatement(statement)) {
      await execute(connection, renamed(statement, renames), where);
    } else {
      await create(`CREATE DATABASE ${quoteId(mapping.target)}`);
      index -= 1; // the statement itself runs with the rest
    }
  }
  if (!created) await create(`CREATE DATABASE ${quoteId(mapping.target)}`);
  const rest = statements.slice(index);
  const unexpected = rest.find((statement) => createdDatabase(statement) !== undefined);
  if (unexpected !== undefined) throw new PermanentError(`${where}: unexpected statement ${head(unexpected)}`, { code: 'SCHEMA_INVALID', engine: ENGINE });
  return statements.slice(0, index).filter(isSessionStatement).concat(rest);
}

/** `CREATE [OR REPLACE] SEQUENCE`. */
const CREATES_SEQUENCE = /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?SEQUENCE\b/i;

/**
 * `statements` with the sequences first, after the file's leading session statements: a table may
 * take its default from one (`DEFAULT NEXTVAL(seq)`), and backups before sequences were captured
 * first list them among the tables by name.
 */
function sequencesFirst(statements: string[]): string[] {
  const { lead, sequences, others } = sequencesApart(statements);
  return [...lead, ...sequences, ...others];
}

/** A pre-schema's leading session statements, its sequences, and the rest, each in order. */
function sequencesApart(statements: string[]): { lead: string[]; sequences: string[]; others: string[] } {
  const found = statements.findIndex((statement) => !isSessionStatement(statement));
  const at = found < 0 ? statements.length : found;
  const rest = statements.slice(at);
  return { lead: statements.slice(0, at), sequences: rest.filter((s) => CREATES_SEQUENCE.test(s)), others: rest.filter((s) => !CREATES_SEQUENCE.test(s)) };
}

/**
 * What {@link createDatabaseOf} left of several databases' pre-schemas, in parts to run in order:
 * every database's sequences, then every database's other statements (each part after the file's
 * leading session statements): a table may take its default from another database's sequence
 * (`DEFAULT NEXTVAL(other.seq)`), which must exist when the table is created (found by a hostile
 * test: a backup of two such databases could never be restored).
 */
export function sequencesOfAllFirst<M>(rests: ReadonlyArray<readonly [M, string[]]>): Array<[M, string[]]> {
  const parts = rests.map(([mapping, statements]) => ({ mapping, ...sequencesApart(statements) }));
  return [
    ...parts.filter((p) => p.sequences.length > 0).map((p): [M, string[]] => [p.mapping, [...p.lead, ...p.sequences]]),
    ...parts.map((p): [M, string[]] => [p.mapping, [...p.lead, ...p.others]]),
  ];
}

/**
 * Runs what {@link createDatabaseOf} left of a pre-schema, calling `onCreated` with each table's
 * name once it exists. With `lanes` (more schema connections), the tables are created over all of
 * them at once: a table is a file the server creates and syncs, so 1 000 tables one after the
 * other are seconds of waiting (tables with foreign keys after the others, one at a time). Only
 * tables and sequences (and session statements) run so; anything else runs in order on `connection`.
 */
export async function createTables(
  connection: Connection,
  statements: string[],
  mapping: DatabaseMapping,
  renames: Renames,
  options: { lanes?: Connection[]; onCreated?: (table: string) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const where = `pre-schema of ${mapping.source}`;
  const lanes = options.lanes ?? [];
  const onRun = (statement: string) => {
    const table = createdTable(statement);
    if (table !== undefined) options.onCreated?.(table);
  };
  if (lanes.length > 0 && statements.every((statement) => isSessionStatement(statement) || INDEPENDENT.test(statement))) {
    await inLanes([connection, ...lanes], statements, (statement) => !REFERENCES.test(statement), mapping.target, renames, where, onRun, options.signal);
    await inLanes([connection], statements, (statement) => REFERENCES.test(statement), mapping.target, renames, where, onRun, options.signal);
  } else {
    await inLanes([connection], sequencesFirst(statements), () => true, mapping.target, renames, where, onRun, options.signal);
  }
}

/**
 * Applies the pre-schema of one database ({@link createDatabaseOf}, then {@link createTables}).
 * Returns the statements run.
 */
export async function applyPreSchema(
  connection: Connection,
  statements: string[],
  mapping: DatabaseMapping,
  renames: Renames,
  afterCreate: () => Promise<void>,
  lanes: Connection[] = [],
): Promise<number> {
  await createTables(connection, await createDatabaseOf(connection, statements, mapping, renames, afterCreate), mapping, renames, { lanes });
  return statements.length;
}

/** Statements a restore may finish without, should the server refuse them (views the source could not resolve either, and grants on them). */
export type MayGoWithout = (item: Pick<DeferredStatement, 'statement' | 'database' | 'error'>) => boolean;

/** Whether a statement that failed with `error` may wait for the others: a dependency may be missing yet, or it may be gone without. */
function mayWait(error: unknown, item: Pick<DeferredStatement, 'statement' | 'database'>, mayGoWithout: MayGoWithout = () => false): boolean {
  return MISSING_DEPENDENCY.has((error as { errno?: number }).errno ?? 0) || ((error as { errno?: unknown }).errno !== undefined && mayGoWithout({ ...item, error }));
}

/** A statement whose dependencies did not exist yet, kept for {@link finishDeferred}. */
export interface DeferredStatement {
  statement: string;
  /** Session statements that preceded it in its file, replayed before it. */
  session: string[];
  /** Which file it comes from, for messages. */
  where: string;
  /** The database it was applied in (post-schema), if any. */
  database?: string;
  error: unknown;
}

/**
 * Applies statements in order (post-schema with `database` set, users.sql without). Statements
 * whose dependencies do not exist yet are returned instead, for {@link finishDeferred} once the
 * other files are applied too.
 * @throws PermanentError `MYSQL_SCHEMA_FAILED` naming the statement, for any other failure.
 */
export async function applyStatements(
  connection: Connection,
  statements: string[],
  options: { database?: string; renames: Renames; where: string; mayGoWithout?: MayGoWithout },
): Promise<DeferredStatement[]> {
  await execute(connection, SCHEMA_SESSION, options.where);
  if (options.database !== undefined) await execute(connection, `USE ${quoteId(options.database)}`, options.where);
  const session: string[] = [];
  const deferred: DeferredStatement[] = [];
  let mode: StatementMode = {}; // the schema session's; a routine's session may set another
  for (const original of statements) {
    const sqlMode = setsSqlMode(original);
    if (sqlMode !== undefined) mode = statementModeNamed(sqlMode);
    const statement = renamed(original, options.renames, mode);
    if (isSessionStatement(statement)) {
      await execute(connection, statement, options.where);
      session.push(statement);
      continue;
    }
    try {
      await connection.query(statement);
    } catch (error) {
      if (!mayWait(error, { statement, database: options.database }, options.mayGoWithout)) {
        throw classifyTargetError(error, `${options.where}: statement failed (${head(statement)})`, 'MYSQL_SCHEMA_FAILED');
      }
      deferred.push({ statement, session: [...session], where: options.where, database: options.database, error });
    }
  }
  return deferred.map((d) => ({ ...d, session: [SCHEMA_SESSION, ...(options.database !== undefined ? [`USE ${quoteId(options.database)}`] : []), ...d.session] }));
}

/**
 * Retries deferred statements (each after replaying its session) while any of them succeeds.
 * Returns those that still fail and `mayGoWithout` accepts (views broken on the source, say).
 * @throws PermanentError `MYSQL_SCHEMA_FAILED` naming the first other statement that still fails.
 */
export async function finishDeferred(connection: Connection, pending: DeferredStatement[], mayGoWithout: MayGoWithout = () => false): Promise<DeferredStatement[]> {
  let remaining = pending;
  while (remaining.length > 0) {
    const next: DeferredStatement[] = [];
    for (const item of remaining) {
      try {
        for (const sql of item.session) await connection.query(sql);
        await connection.query(item.statement);
      } catch (error) {
        if (!mayWait(error, item, mayGoWithout)) {
          throw classifyTargetError(error, `${item.where}: statement failed (${head(item.statement)})`, 'MYSQL_SCHEMA_FAILED');
        }
        next.push({ ...item, error });
      }
    }
    if (next.length === remaining.length) {
      const first = next.find((item) => !mayGoWithout(item));
      if (first === undefined) return next;
      throw classifyTargetError(first.error, `${first.where}: statement failed (${head(first.statement)})`, 'MYSQL_SCHEMA_FAILED');
    }
    remaining = next;
  }
  return [];
}
