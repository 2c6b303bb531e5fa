/**
 * Validation of a logical restore against the manifest: every table present under its target
 * name, with the row count and digest the dump recorded (read back with the same reader the dump
 * uses, several tables at a time — or, when the load already read every table back as it went
 * (chunk-load.ts), its results, with every table counted once more), and
 * the schema objects the post-schema defines present by name.
 * Mismatches become failed checks with details; only a target that cannot be reached throws.
 * Physical restores are checked the same way, except a backup taken with
 * `physical.prepareCheck: false`, which records no table facts: its restore is only shown to have
 * readable tables, and the report says that nothing was compared with the source.
 */
import type { Connection } from 'mysql2/promise';
import { mapLimitedWith } from '../../../core/concurrency';
import { nameSome } from '../../../core/name-some';
import type { RestoreContext, RestoreResult, ValidationCheck } from '../../../core/driver/types';
import type { MysqlRestoreTarget } from '../config';
import { SYSTEM_DATABASES, recordedFacts, rowsElsewhereApart, type MysqlFacts, type TableFacts } from '../shared/layout';
import { objectsOnServer, SCHEMA_OBJECT_KINDS, type SchemaObjects } from '../shared/schema-objects';
import { DIGEST_ALGORITHM } from '../shared/table-digest';
import { digestTable } from '../shared/table-reader';
import { tableKey } from '../shared/table-columns';
import { catalogText } from '../shared/catalog-text';
import { MARKER_TABLE } from './restore-marker';
import { openReadConnection, openSchemaConnection } from '../shared/target-connection';
import { quoteId } from '../shared/connection';
import { readBackOf, type ReadBack } from './chunk-load';
import { mapDatabases } from './target-databases';
import { eachName, isExactly, storedTableName } from '../shared/exact-names';

type Ctx = RestoreContext<MysqlRestoreTarget>;

/** The tables of `databases` on the server, each with its TABLE_TYPE (`BASE TABLE`, `SYSTEM VERSIONED`, `SEQUENCE`). */
async function baseTables(connection: Connection, databases: string[]): Promise<Map<string, string>> {
  if (databases.length === 0) return new Map();
  const rows = await eachName<{ db: string; tbl: string; type: string }>(connection, databases,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, TABLE_TYPE AS type FROM information_schema.TABLES WHERE ${isExactly('TABLE_SCHEMA')} AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE')`);
  return new Map(rows.map((r) => [tableKey(r.db, r.tbl), catalogText(r.type)]));
}

/**
 * Tables of rows the restore made that the backup's facts do not list: the schema it applied
 * created them, but no rows of them were recorded, so none were loaded or compared (a manifest
 * whose facts lost a table passed every other check, the table restored empty). Sequences hold no
 * rows the dump records; the restore's marker is gone once the restore is done.
 */
function unlistedTables(present: Map<string, string>, listed: Set<string>): string[] {
  return [...present].filter(([key, type]) => type !== 'SEQUENCE' && !listed.has(key) && !key.endsWith(`\u0000${MARKER_TABLE}`))
    .map(([key]) => key.replace('\u0000', '.'));
}

interface Digested {
  facts: TableFacts;
  name: string;
  rows?: number;
  digest?: string;
  error?: string;
}

/** Reads rows and digest of each table, `parallelism` tables at a time; a table that cannot be read is an `error`, not a throw. */
async function digestAll(ctx: Ctx, tables: Array<{ facts: TableFacts; database: string }>): Promise<Digested[]> {
  const connections = { open: () => openReadConnection(ctx.target), close: (c: Connection) => c.end().catch(() => undefined) };
  const results = await mapLimitedWith(tables, ctx.target.parallelism, connections, async ({ facts, database }, connection): Promise<Digested> => {
    const name = `${database}.${facts.table}`;
    try {
      return { facts, name, ...await digestTable(connection, { database, table: facts.table }) };
    } catch (error) {
      return { facts, name, error: error instanceof Error ? error.message : String(error) };
    }
  });
  return results.sort((a, b) => a.name.localeCompare(b.name));
}

/** The views a restore left out (logical-restore.ts: the source could not resolve them, nor could the target). */
function viewsLeftOut(result: RestoreResult): string[] {
  const recorded = result.endpoint.viewsLeftOut;
  return Array.isArray(recorded) ? recorded.map(String) : [];
}

/**
 * Whether every object `expected` names is in `actual`; `stored` names a view as the target stores
 * it. Views left out (broken on the source) are not expected, and are named.
 */
function objectsCheck(expected: Record<string, SchemaObjects> | undefined, actual: Record<string, SchemaObjects>, stored: (name: string) => string, leftOut: string[]): ValidationCheck {
  if (!expected) return { name: 'schema-objects', ok: false, detail: 'the restore result does not record the expected schema objects' };
  const missing: string[] = [];
  let count = 0;
  for (const [database, objects] of Object.entries(expected)) {
    for (const kind of SCHEMA_OBJECT_KINDS) {
      for (const name of objects[kind] ?? []) {
        count += 1;
        if (!actual[database]?.[kind].includes(kind === 'view' ? stored(name) : name)) missing.push(`${kind} ${database}.${name}`);
      }
    }
  }
  const note = leftOut.length > 0 ? `; left out, as the source could not resolve them either: view ${nameSome(leftOut)}` : '';
  return missing.length === 0
    ? { name: 'schema-objects', ok: true, detail: `${count} views, triggers, routines and events present${note}` }
    : { name: 'schema-objects', ok: false, detail: `missing: ${nameSome(missing)}${note}` };
}

/** True for a physical backup taken with `physical.prepareCheck: false`: it records no table facts. */
function withoutTableFacts(facts: MysqlFacts): boolean {
  return facts.mode === 'physical' && facts.tables.length === 0 && (facts.physical as { prepared?: boolean } | undefined)?.prepared === false;
}

/** Every user table on the target: base tables outside the server's own databases. */
async function userTables(connection: Connection): Promise<Array<{ database: string; table: string }>> {
  const [rows] = await connection.query(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl FROM information_schema.TABLES WHERE BINARY TABLE_SCHEMA NOT IN (?) AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_SCHEMA, TABLE_NAME",
    [SYSTEM_DATABASES],
  ) as [Array<{ db: string; tbl: string }>, unknown];
  return rows.map((r) => ({ database: r.db, table: r.tbl }));
}

/**
 * A restore of a backup without table facts can only show that what it restored is there and
 * readable: every user table on the restored server is read to its end (rows counted and
 * digested, which reads every page), and one check says plainly that nothing was compared with
 * the source.
 */
async function validateWithoutTableFacts(ctx: Ctx): Promise<ValidationCheck[]> {
  const schema = await openSchemaConnection(ctx.target);
  let tables: Array<{ database: string; table: string }>;
  try {
    tables = await userTables(schema);
  } finally {
    await schema.end().catch(() => undefined);
  }
  const placeholders = tables.map((t) => ({ database: t.database, facts: { ...t, engine: '', rows: 0, digest: '', chunks: [] } }));
  const digested = await digestAll(ctx, placeholders);
  const unreadable = digested.filter((d) => d.error !== undefined).map((d) => `${d.name} (${d.error})`);
  const rows = digested.reduce((sum, d) => sum + (d.rows ?? 0), 0);
  const databases = new Set(tables.map((t) => t.database)).size;
  return [
    unreadable.length === 0
      ? { name: 'tables-readable', ok: true, detail: tables.length ? `${tables.length} tables in ${databases} databases read to the end (${rows} rows)` : 'the restored server has no user tables' }
      : { name: 'tables-readable', ok: false, detail: `unreadable: ${nameSome(unreadable)}` },
    {
      name: 'table-facts',
      ok: true,
      detail: 'skipped (physical.prepareCheck=false): the backup records no row counts, digests or schema objects, so the restored tables were not compared with the source',
    },
  ];
}

function presentCheck(count: number, targets: string[], missing: string[], unlisted: string[]): ValidationCheck {
  if (missing.length === 0 && unlisted.length === 0) return { name: 'tables-present', ok: true, detail: `${count} tables in ${nameSome(targets)}` };
  const problems = [
    ...(missing.length > 0 ? [`missing: ${nameSome(missing)}`] : []),
    ...(unlisted.length > 0 ? [`not in the backup's facts, so restored without their rows: ${nameSome(unlisted)} (the backup's schema creates them but its manifest records no rows of them: an edited manifest?)`] : []),
  ];
  return { name: 'tables-present', ok: false, detail: problems.join('; ') };
}

/** Tables a query counts at once (one query of subqueries, not a round trip a table). */
const COUNTED_AT_ONCE = 50;

/**
 * Row counts, now, of every table: the load read each table (or key range) back as soon as it was
 * in; a count equal to the manifest's shows no row was added or removed since (another writer, an
 * event, a later load into a range already proven). An index scan each: no row is sent.
 */
async function countRows(ctx: Ctx, tables: Array<{ facts: TableFacts; database: string }>): Promise<Array<{ name: string; rows: number; expected: number }>> {
  const groups: Array<typeof tables> = [];
  for (let i = 0; i < tables.length; i += COUNTED_AT_ONCE) groups.push(tables.slice(i, i + COUNTED_AT_ONCE));
  const connections = { open: () => openReadConnection(ctx.target), close: (c: Connection) => c.end().catch(() => undefined) };
  const counted = await mapLimitedWith(groups, ctx.target.parallelism, connections, async (group, connection) => {
    const sql = `SELECT ${group.map(({ facts, database }) => `(SELECT COUNT(*) FROM ${quoteId(database)}.${quoteId(facts.table)})`).join(', ')}`;
    const [[row]] = await connection.query({ sql, rowsAsArray: true }) as unknown as [Array<Array<Buffer | number | string>>, unknown];
    return group.map(({ facts, database }, i) => ({ name: `${database}.${facts.table}`, rows: Number(String(row[i])), expected: facts.rows }));
  });
  return counted.flat();
}

/** The row-count and digest checks from what the load read back (chunk-load.ts {@link ReadBack}) and the cut tables' counts now. */
function checksAsLoaded(readBack: ReadBack, counted: Array<{ name: string; rows: number; expected: number }>, missing: string[]): ValidationCheck[] {
  const countsWrong = counted.filter((c) => c.rows !== c.expected).map((c) => `${c.name}: ${c.rows} rows now, expected ${c.expected}`);
  const rowsDiffer = readBack.differ.filter((d) => / rows, expected /.test(d));
  const how = 'read back and digested as each table or key range was loaded, every table counted again now';
  return [
    countsWrong.length + readBack.countsDiffer === 0 && missing.length === 0
      ? { name: 'row-counts', ok: true, detail: `${readBack.rows} rows in ${readBack.tables} tables (${how})` }
      : { name: 'row-counts', ok: false, detail: nameSome([...rowsDiffer, ...countsWrong, ...missing.map((m) => `${m}: missing`)], { total: readBack.countsDiffer + countsWrong.length + missing.length }) },
    readBack.differCount === 0 && missing.length === 0
      ? { name: 'table-digests', ok: true, detail: `${readBack.tables} table digests match (${how})` }
      : { name: 'table-digests', ok: false, detail: `differ: ${nameSome([...readBack.differ, ...missing], { total: readBack.differCount + missing.length })}` },
  ];
}

/**
 * The four checks of a restore (see the file comment); for a physical backup without table facts
 * (`physical.prepareCheck: false`), the readable-tables check and a note that nothing was compared.
 */
export async function validateRestoredTables(ctx: Ctx, result: RestoreResult): Promise<ValidationCheck[]> {
  const facts = rowsElsewhereApart(recordedFacts(ctx.backup));
  if (withoutTableFacts(facts)) return validateWithoutTableFacts(ctx);
  const mappings = mapDatabases(facts, ctx.target.renameDatabases);
  const targetOf = new Map(mappings.map((m) => [m.source, m.target]));
  const targets = mappings.map((m) => m.target);

  const schema = await openSchemaConnection(ctx.target);
  let present: Map<string, string>;
  let stored: (name: string) => string;
  const actualObjects: Record<string, SchemaObjects> = {};
  try {
    stored = await storedTableName(schema);
    present = await baseTables(schema, targets);
    for (const database of targets) actualObjects[database] = await objectsOnServer(schema, database);
  } finally {
    await schema.end().catch(() => undefined);
  }

  const tables = facts.tables.map((t) => ({ facts: t, database: targetOf.get(t.database) ?? t.database }));
  const isPresent = (t: { database: string; facts: TableFacts }) => present.has(tableKey(t.database, stored(t.facts.table)));
  const missing = tables.filter((t) => !isPresent(t)).map((t) => `${t.database}.${t.facts.table}`);
  // Tables whose rows live elsewhere (FEDERATED, SPIDER, MERGE) are recorded without rows on purpose.
  const elsewhere = (facts.rowsElsewhere ?? []).map((t) => tableKey(targetOf.get(t.database) ?? t.database, stored(t.table)));
  const unlisted = unlistedTables(present, new Set([...tables.map((t) => tableKey(t.database, stored(t.facts.table))), ...elsewhere]));
  const readBack = readBackOf(result.endpoint.readBack);
  if (readBack && readBack.tables === tables.length && facts.digestAlgorithm === DIGEST_ALGORITHM) {
    const counted = await countRows(ctx, tables.filter(isPresent));
    return [
      presentCheck(tables.length, targets, missing, unlisted),
      ...checksAsLoaded(readBack, counted, missing),
      objectsCheck(result.endpoint.objects as unknown as Record<string, SchemaObjects> | undefined, actualObjects, stored, viewsLeftOut(result)),
    ];
  }
  const digested = await digestAll(ctx, tables.filter(isPresent));

  const unreadable = digested.filter((d) => d.error !== undefined).map((d) => `${d.name} (${d.error})`);
  const countsWrong = digested.filter((d) => d.error === undefined && d.rows !== d.facts.rows).map((d) => `${d.name}: ${d.rows} rows, expected ${d.facts.rows}`);
  const digestsWrong = digested.filter((d) => d.error === undefined && d.digest !== d.facts.digest).map((d) => d.name);
  const rows = digested.reduce((sum, d) => sum + (d.rows ?? 0), 0);
  const algorithm = facts.digestAlgorithm ?? '(not recorded: an older dbbackup)';
  const comparable = algorithm === DIGEST_ALGORITHM;

  return [
    presentCheck(tables.length, targets, missing, unlisted),
    countsWrong.length + unreadable.length === 0 && missing.length === 0
      ? { name: 'row-counts', ok: true, detail: `${rows} rows in ${digested.length} tables` }
      : { name: 'row-counts', ok: false, detail: nameSome([...countsWrong, ...unreadable, ...missing.map((m) => `${m}: missing`)]) },
    !comparable
      ? { name: 'table-digests', ok: false, detail: `the backup's digests were computed as ${algorithm}, this version computes ${DIGEST_ALGORITHM}: not comparable (row counts were checked)` }
      : digestsWrong.length + unreadable.length === 0 && missing.length === 0
        ? { name: 'table-digests', ok: true, detail: `${digested.length} table digests match` }
        : { name: 'table-digests', ok: false, detail: `differ: ${nameSome([...digestsWrong, ...unreadable, ...missing])}` },
    objectsCheck(result.endpoint.objects as unknown as Record<string, SchemaObjects> | undefined, actualObjects, stored, viewsLeftOut(result)),
  ];
}
