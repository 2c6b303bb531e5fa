/**
 * The shards of one server read from one read view: the MySQL driver's consistent snapshot
 * (commits blocked for milliseconds while the view opens and the binlog file, position and GTID
 * are read), so every shard of the server is seen at the same point, the one recorded. Around the
 * view, what each shard's watermark needs (cell-delta.ts): a full backup's floor probed before, the
 * transactions running just before and just after; in the view, each shard's delta and record,
 * and — on connections of their own, while the caller dumps the cells in the same view
 * (`view.connections`, their summary digested as they are written: cell-summary.ts) — each whole
 * cell table's count and highest id (a scan of the table: a full backup checks its dump against
 * it, an incremental its summary; overlapped, it costs an incremental no wait of its own).
 */
import type { Connection } from 'mysql2/promise';
import { existingLanes, mapLimitedWith } from '../../core/concurrency';
import type { Logger } from '../../core/logger';
import { openDataConnection, type ConnectionSettings } from '../mysql/shared/connection';
import { openConsistentSnapshot } from '../mysql/shared/consistency';
import type { MysqlConsistency } from '../mysql/shared/layout';
import { detectServerVersion } from '../mysql/shared/version';
import { committedMaxAddedId, floorFor, readShardDelta, runningTransactions, type ShardDelta } from './cell-delta';
import { countCells, type CellSummary } from './cell-summary';
import { allEnded, type ShardWatermark } from './watermark';

/** A shard of this server, and its previous record when the backup is incremental for it. */
export interface ServerShard {
  shard: number;
  database: string;
  previous?: ShardWatermark;
}

export interface ShardReading extends ShardDelta {
  shard: number;
  database: string;
}

/** A whole cell table in the view: its count and highest `added_id`. */
export type WholeTable = Pick<CellSummary, 'cells' | 'maxAddedId'>;

/** An open read view over the server's shards, read; `end` closes it. */
export interface ServerView {
  /** The point every shard was read at (binlog file, position, GTID). */
  consistency: MysqlConsistency;
  /** When the read view opened (this host's clock, ISO 8601): no cell created later is in it. */
  readAt: string;
  shards: ShardReading[];
  /** The connection the shards were read on, holding the read view (a data connection: results as raw bytes). */
  connection: Connection;
  /** Every connection holding the read view ({@link connection} first): the dump's workers. */
  connections: Connection[];
  /** Each shard's whole cell table, by shard number: being counted in the view while the caller dumps. */
  wholeTables(): Promise<ReadonlyMap<number, WholeTable>>;
  end(): Promise<void>;
}

/**
 * Opens one read view on the server of `settings` for all of `shards`, on `workers` connections
 * (default 1) and as many counting ones, and reads each shard's delta and record, then starts
 * counting each whole cell table.
 */
export async function readServerShards(
  settings: ConnectionSettings, shards: readonly ServerShard[], cellTable: string, logger: Logger, workers = 1, whileLocked?: (control: Connection) => Promise<void>,
): Promise<ServerView> {
  const open = () => openDataConnection(settings);
  const control = await open();
  const connections: Connection[] = [];
  const counters: Connection[] = [];
  const endAll = () => Promise.all([...connections, ...counters].map((c) => c.end().catch(() => undefined)));
  try {
    for (let i = 0; i < workers; i += 1) connections.push(await open());
    for (let i = 0; i < workers; i += 1) counters.push(await open());
    const [view] = connections;
    const version = await detectServerVersion(control);
    // Every full shard's floor at once: the highest ids committed now, then the transactions running after them.
    const maxima = new Map<number, bigint>();
    for (const s of shards) if (!s.previous) maxima.set(s.shard, await committedMaxAddedId(control, { database: s.database, table: cellTable }));
    const runningAtFloors = maxima.size > 0 ? await runningTransactions(open) : new Set<string>();
    const runningBefore = await runningTransactions(open);
    const snapshot = await openConsistentSnapshot(control, [...connections, ...counters], version, { nonTransactional: false, logger, whileLocked });
    const readAt = new Date().toISOString();
    // The counts start at once, on their own connections, and run on while the caller dumps.
    const counted = mapLimitedWith(shards, counters.length, existingLanes(counters), async (s, counter) => [s.shard, await countCells(counter, { database: s.database, table: cellTable })] as const);
    // Awaited by wholeTables; a count failing because the view ended early (something else failed) is not an unhandled rejection.
    counted.catch(() => undefined);
    const openTransactions = await runningTransactions(open);
    // The shards are read on every connection of the view at once, each taking the next shard.
    const readings = await mapLimitedWith(shards, connections.length, existingLanes(connections), async (s, connection): Promise<ShardReading> => {
      const table = { database: s.database, table: cellTable };
      const delta = await readShardDelta(connection, table, s.previous
        ? { full: false, previous: s.previous, previousFinal: allEnded(s.previous.openTransactions, runningBefore) }
        : { full: true, floor: floorFor({ maxAddedId: maxima.get(s.shard)!, running: runningAtFloors }, runningBefore) }, openTransactions);
      return { shard: s.shard, database: s.database, ...delta };
    });
    await control.end();
    return {
      consistency: snapshot.consistency,
      readAt,
      shards: readings,
      connection: view,
      connections,
      async wholeTables() {
        return new Map(await counted);
      },
      async end() {
        await endAll();
      },
    };
  } catch (error) {
    await Promise.all([control.end().catch(() => undefined), endAll()]);
    throw error;
  }
}
