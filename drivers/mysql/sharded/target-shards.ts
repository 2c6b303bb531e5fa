/**
 * The shards (or partitions) of a restore target on MySQL servers, each a database on one of the
 * target's servers: connections opened once per server and shared by that server's shards (checks
 * and summaries use them one statement at a time), and the check that none of a restore's tables
 * already holds rows there.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError, TransientError } from '../../../core/errors';
import { nameSome } from '../../../core/name-some';
import type { ConnectionSettings } from '../shared/connection';
import { quoteId } from '../shared/connection';
import { classifyTargetError, openReadConnection } from '../shared/target-connection';
import type { ShardConnection } from './derived-index';
import { ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE, errnoOf } from '../shared/errors';
import { detectServerVersion } from '../shared/version';
import { catalogText } from '../shared/catalog-text';
import { MARKER_TABLE, readMarker } from '../logical/restore-marker';

/** A target server: a name the shard map uses, and how to reach it. */
export type TargetServer = ConnectionSettings & { name: string };

/** Where each shard goes: its server (by name) and database. */
export interface ShardMap {
  servers: readonly TargetServer[];
  shards: ReadonlyArray<{ shard: number; server: string; database: string }>;
}

/** Every shard with a connection to its server (opened with `open`, one per server); `close` ends them. */
export async function connectShards(
  target: ShardMap, open: (server: TargetServer) => Promise<Connection> = openReadConnection,
): Promise<{ shards: ShardConnection[]; close(): Promise<void> }> {
  const byServer = new Map<string, Connection>();
  const close = () => Promise.all([...byServer.values()].map((c) => c.end().catch(() => undefined))).then(() => undefined);
  try {
    for (const server of target.servers) if (target.shards.some((s) => s.server === server.name)) byServer.set(server.name, await open(server));
  } catch (error) {
    await close();
    throw error;
  }
  const shards = [...target.shards].sort((a, b) => a.shard - b.shard).map((s) => ({ shard: s.shard, database: s.database, connection: byServer.get(s.server)! }));
  return { shards, close };
}

/**
 * Which of `tables` hold rows in the target's shard databases, as `database.table`. Each is asked
 * for by name, so the server finds it as the restore's `DROP TABLE` would (whatever case a server
 * that folds names stores it in).
 */
export async function occupiedTables(target: ShardMap, tables: readonly string[]): Promise<string[]> {
  const connected = await connectShards(target);
  try {
    return (await occupiedOn(connected.shards, tables)).map((o) => o.name);
  } finally {
    await connected.close();
  }
}

/** {@link occupiedTables} on shards already connected, each with its shard. */
async function occupiedOn(shards: readonly ShardConnection[], tables: readonly string[]): Promise<Array<{ shard: ShardConnection; name: string }>> {
  const occupied: Array<{ shard: ShardConnection; name: string }> = [];
  for (const shard of shards) {
    for (const table of tables) if (await holdsRows(shard.connection, shard.database, table)) occupied.push({ shard, name: `${shard.database}.${table}` });
  }
  return occupied;
}

/** How an engine names its shards in messages. */
export interface ShardWords {
  /** `shard` or `partition`. */
  shard: string;
  engine: string;
}

/**
 * The tables of `tables` that hold rows on the target ({@link occupiedTables}), refused unless
 * `force` — or unless every database holding them holds the marker of restore `own` (an earlier
 * attempt of this restore wrote them; its host's spool, which would say so, is gone). A restore
 * asks when it prepares the target and again just before it writes, after its download, so rows
 * written there meanwhile are not replaced without force. The refusal says which of the databases
 * holding them an unfinished restore wrote (they hold its marker table).
 * @throws PermanentError `TARGET_NOT_EMPTY` naming up to five of them
 */
export async function emptyUnlessForced(target: ShardMap, tables: readonly string[], force: boolean, words: ShardWords, own?: string): Promise<string[]> {
  const connected = await connectShards(target);
  try {
    const occupied = await occupiedOn(connected.shards, tables);
    if (occupied.length > 0 && !force) {
      const holding = [...new Set(occupied.map((o) => o.shard))];
      if (own !== undefined && await everyMarkedBy(holding, own).catch(unlessTransient)) return occupied.map((o) => o.name);
      const unfinished = await unfinishedRestoresAmong(target, holding).catch(() => []); // the refusal stands without them
      throw notEmpty(occupied.map((o) => o.name), unfinished, unfinished.length === holding.length, words);
    }
    return occupied.map((o) => o.name);
  } finally {
    await connected.close();
  }
}

/** A failure reading the marks: a transient one (a connection lost) fails the step, to be retried; any other leaves the refusal as it is. */
function unlessTransient(error: unknown): false {
  const classified = classifyTargetError(error, 'reading the restore marks of the shard databases holding rows');
  if (classified instanceof TransientError) throw classified;
  return false;
}

/** Whether every one of `shards` holds the marker of restore `own`. */
const everyMarkedBy = async (shards: readonly ShardConnection[], own: string): Promise<boolean> => (await markedBy(shards, own)).length === shards.length;

/** Those of `shards` that hold the marker of restore `own` (logical/restore-marker.ts). */
export async function markedBy(shards: readonly ShardConnection[], own: string): Promise<ShardConnection[]> {
  const marked: ShardConnection[] = [];
  for (const shard of shards) if (await readMarker(shard.connection, shard.database) === own) marked.push(shard);
  return marked;
}

/** `shard` of `target` as `<database> on <server>`. */
export function shardOnServer(target: ShardMap, shard: Pick<ShardConnection, 'shard' | 'database'>): string {
  return `${shard.database} on ${target.shards.find((s) => s.shard === shard.shard)?.server}`;
}

/** The refusal of a target holding `occupied`, naming the databases among them an `unfinished` restore wrote (`all` of them, or some). */
function notEmpty(occupied: string[], unfinished: string[], all: boolean, words: ShardWords): PermanentError {
  const held = `the target holds data: ${nameSome(occupied, { most: 5 })}`;
  const marked = `${nameSome(unfinished, { most: 5 })} ${unfinished.length === 1 ? 'holds' : 'hold'} table ${MARKER_TABLE}: a restore into ${unfinished.length === 1 ? 'it' : 'them'} did not finish`;
  const message = unfinished.length === 0 ? `${held} (restore into empty ${words.shard} databases, or force to replace them)`
    : all ? `${held}; ${marked} — restore again with force to replace what it wrote, or drop what it wrote`
      : `${held} (restore into empty ${words.shard} databases, or force to replace them); ${marked}`;
  return new PermanentError(message, { code: 'TARGET_NOT_EMPTY', engine: words.engine });
}

/** Of `shards` (connected), those holding a restore's marker table ({@link unfinishedRestoresOn}), each as `<database> on <server>`. */
async function unfinishedRestoresAmong(target: ShardMap, shards: readonly ShardConnection[]): Promise<string[]> {
  const serverOf = new Map(target.shards.map((s) => [s.shard, s.server]));
  const found: string[] = [];
  for (const server of target.servers) {
    const on = shards.filter((s) => serverOf.get(s.shard) === server.name);
    if (on.length > 0) found.push(...await unfinishedRestoresOn(on[0].connection, server.name, on.map((s) => s.database)));
  }
  return found;
}

/**
 * The shard databases of `databases` on `server` (which `connection` reaches) that hold a restore's
 * marker table — a restore into them did not finish — each as `<database> on <server>`. Names are
 * compared as a server that folds them (`lower_case_table_names`) would.
 */
export async function unfinishedRestoresOn(connection: Connection, server: string, databases: readonly string[]): Promise<string[]> {
  const [rows] = await connection.query({ sql: 'SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = ?', values: [MARKER_TABLE], rowsAsArray: true }) as unknown as [unknown[][], unknown];
  const marked = new Set(rows.map(([schema]) => catalogText(schema).toLowerCase()));
  return databases.filter((database) => marked.has(database.toLowerCase())).map((database) => `${database} on ${server}`);
}

/**
 * A target a sharded restore can write, as its prepare step finds it: every server of a version the
 * restore writes to (`UNSUPPORTED_VERSION` otherwise), and {@link emptyUnlessForced}.
 */
export async function preparedShardTarget(target: ShardMap, tables: readonly string[], force: boolean, words: ShardWords): Promise<string[]> {
  const connected = await connectShards(target);
  try {
    for (const connection of new Set(connected.shards.map((s) => s.connection))) await detectServerVersion(connection);
  } finally {
    await connected.close();
  }
  return emptyUnlessForced(target, tables, force, words);
}

/** True when `database.table` exists on the server and holds a row. */
async function holdsRows(connection: Connection, database: string, table: string): Promise<boolean> {
  try {
    const [any] = await connection.query({ sql: `SELECT 1 FROM ${quoteId(database)}.${quoteId(table)} LIMIT 1`, rowsAsArray: true });
    return (any as unknown[]).length > 0;
  } catch (error) {
    if (errnoOf(error) === ER_NO_SUCH_TABLE || errnoOf(error) === ER_BAD_DB_ERROR) return false;
    throw error;
  }
}
