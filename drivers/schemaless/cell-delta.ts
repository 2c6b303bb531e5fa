/**
 * What a backup of one shard's cell table reads to keep its watermark exact (watermark.ts): the
 * running InnoDB transactions, the highest committed id (a full backup's floor), and — inside the
 * backup's read view — the ids above the previous maximum or floor, and those that appeared in the
 * previous record's gaps. Only ids are read here (a range scan of the table's tail and of the
 * gaps); the cells themselves are the dump's.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from 'mysql2/promise';
import { TransientError } from '../../core/errors';
import { quoteId } from '../mysql/shared/connection';
import { allEnded, GapFinder, gapRanges, nextWatermark, withoutIds, type IdRange, type ShardWatermark } from './watermark';

/** A shard's cell table. */
export interface CellTable {
  database: string;
  table: string;
}

/** Gap ranges per query: a record's gaps are few, but a long-lived transaction can carry many. */
const RANGES_PER_QUERY = 500;
/** Ids read per query above the start (keyset pages: memory stays flat however many cells are new). */
const IDS_PER_PAGE = 50_000;

const qualified = (t: CellTable) => `${quoteId(t.database)}.${quoteId(t.table)}`;

/** How long {@link runningTransactions} waits for InnoDB to refresh its list, and how often it looks. */
export const TRANSACTION_LIST_WAIT = { timeoutMs: 30_000, pollMs: 150 };

/**
 * The InnoDB transactions running on the server (every database's, each as `thread@start`), as of a moment
 * after this call began. `information_schema.INNODB_TRX` is served from a cache that InnoDB
 * refreshes only when nobody has read it for 0.1 s: read often, it shows transactions long ended
 * and misses new ones. So a transaction is opened first on a connection of its own (`open`: a new
 * thread id, never seen in an older list; a read-only transaction's id is not new), and the list
 * is read every {@link TRANSACTION_LIST_WAIT}.pollMs until it shows that thread: a list refreshed
 * after the call began. The connection is closed before this returns.
 * @throws TransientError `SCHEMALESS_TRANSACTIONS_STALE` when the list is not refreshed in time
 *   (something else reads it more often than every 0.1 s)
 */
export async function runningTransactions(open: () => Promise<Connection>, wait = TRANSACTION_LIST_WAIT): Promise<Set<string>> {
  const connection = await open();
  try {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const [[own]] = (await connection.query({ sql: 'SELECT CONNECTION_ID()', rowsAsArray: true }))[0] as unknown[][];
    const deadline = Date.now() + wait.timeoutMs;
    for (;;) {
      // A transaction is named by its thread and start, not its trx_id: MariaDB shows every
      // transaction that has not written yet as trx_id 0 (one name for all of them, the backup's own
      // read views included), and gives it a real id only at its first write, so an id would change
      // under us. Thread and start time stay the same for the transaction's life.
      const [rows] = await connection.query({ sql: "SELECT CONCAT(trx_mysql_thread_id, '@', trx_started), trx_mysql_thread_id FROM information_schema.INNODB_TRX", rowsAsArray: true });
      const listed = rows as unknown[][];
      if (listed.some(([, thread]) => String(thread) === String(own))) {
        return new Set(listed.filter(([, thread]) => String(thread) !== String(own)).map(([id]) => String(id)));
      }
      if (Date.now() > deadline) {
        throw new TransientError(`InnoDB's list of running transactions (information_schema.INNODB_TRX) was not refreshed in ${wait.timeoutMs / 1000} s: something reads it more often than every 0.1 s`, { code: 'SCHEMALESS_TRANSACTIONS_STALE', engine: 'schemaless' });
      }
      await delay(wait.pollMs);
    }
  } finally {
    await connection.end();
  }
}

/** The highest `added_id` committed now (0 for an empty table); read outside any read view. */
export async function committedMaxAddedId(connection: Connection, table: CellTable): Promise<bigint> {
  const [rows] = await connection.query({ sql: `SELECT COALESCE(MAX(added_id), 0) FROM ${qualified(table)}`, rowsAsArray: true });
  return BigInt(String((rows as unknown[][])[0][0]));
}

/**
 * A full backup's floor, probed before its read view opens: the highest committed id, and the
 * transactions running just after it was read. Pass it to {@link floorFor} with the transactions
 * running when the read view is about to open.
 */
export async function probeFloor(open: () => Promise<Connection>, connection: Connection, table: CellTable): Promise<{ maxAddedId: bigint; running: Set<string> }> {
  const maxAddedId = await committedMaxAddedId(connection, table);
  return { maxAddedId, running: await runningTransactions(open) };
}

/** The floor below which every missing id is final: the probe's maximum once every transaction it saw has ended, else 0. */
export function floorFor(probe: { maxAddedId: bigint; running: ReadonlySet<string> }, runningNow: ReadonlySet<string>): bigint {
  return allEnded([...probe.running], runningNow) ? probe.maxAddedId : 0n;
}

/** Where a shard's backup starts: a full one above its floor, an incremental one after its previous record. */
export type DeltaStart = { full: true; floor: bigint } | { full: false; previous: ShardWatermark; previousFinal: boolean };

/** What the ids of a backup's read view give: the next record, and which ids to take besides those above the start. */
export interface ShardDelta {
  watermark: ShardWatermark;
  /** Ids inside the previous record's gaps now visible: cells an incremental must take (they committed late). */
  lateIds: bigint[];
  /** Ids above the previous maximum (or the floor) now visible. */
  newIds: number;
}

/**
 * Reads the ids of `table` in `connection`'s read view that the backup takes beyond what came
 * before, ascending, and the record that follows. `openTransactions`: the transactions running
 * when the read view opened.
 */
export async function readShardDelta(connection: Connection, table: CellTable, start: DeltaStart, openTransactions: ReadonlySet<string>): Promise<ShardDelta> {
  const after = start.full ? start.floor : BigInt(start.previous.maxAddedId);
  const fresh = new GapFinder(after);
  let newIds = 0;
  for (let from = after; ;) {
    const ids = await idsOf(connection, `SELECT added_id FROM ${qualified(table)} WHERE added_id > ? ORDER BY added_id LIMIT ${IDS_PER_PAGE}`, [from.toString()]);
    for (const id of ids) fresh.see(id);
    newIds += ids.length;
    if (ids.length < IDS_PER_PAGE) break;
    from = ids[ids.length - 1];
  }
  const lateIds: bigint[] = [];
  const previousGaps: IdRange[] = start.full ? [] : gapRanges(start.previous);
  for (let i = 0; i < previousGaps.length; i += RANGES_PER_QUERY) {
    const ranges = previousGaps.slice(i, i + RANGES_PER_QUERY);
    const where = ranges.map(() => 'added_id BETWEEN ? AND ?').join(' OR ');
    lateIds.push(...await idsOf(connection, `SELECT added_id FROM ${qualified(table)} WHERE ${where} ORDER BY added_id`, ranges.flatMap(([a, b]) => [a.toString(), b.toString()])));
  }
  const watermark = nextWatermark({
    carried: withoutIds(previousGaps, lateIds),
    carriedFinal: start.full || start.previousFinal,
    fresh,
    openTransactions: [...openTransactions],
  });
  return { watermark, lateIds, newIds };
}

/** The single BIGINT column of `sql`'s rows. */
async function idsOf(connection: Connection, sql: string, values: string[]): Promise<bigint[]> {
  const [rows] = await connection.query({ sql, values, rowsAsArray: true });
  return (rows as unknown[][]).map(([id]) => BigInt(String(id)));
}
