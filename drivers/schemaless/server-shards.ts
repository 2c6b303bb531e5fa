/**
 * The shards of one server read from one read view: the MySQL driver's consistent snapshot
 * (commits blocked for milliseconds while the view opens and the binlog file, position and GTID
 * are read), so every shard of the server is seen at the same point, the one recorded. Around the
 * view, what each shard's watermark needs (cell-delta.ts): a full backup's floor probed before, the
 * transactions running just before and just after; in the view, each shard's delta and record,
 * and its cell summary (cell-summary.ts). The caller dumps the cells in the same view
 * (`view.connection`), then ends it.
 */
import type { Connection } from 'mysql2/promise';
import type { Logger } from '../../core/logger';
import { openDataConnection, type ConnectionSettings } from '../mysql/shared/connection';
import { openConsistentSnapshot } from '../mysql/shared/consistency';
import type { MysqlConsistency } from '../mysql/shared/layout';
import { detectServerVersion } from '../mysql/shared/version';
import { floorFor, probeFloor, readShardDelta, runningTransactions, type ShardDelta } from './cell-delta';
import { summariseCells, type CellSummary } from './cell-summary';
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
  summary: CellSummary;
}

/** An open read view over the server's shards, read; `end` closes it. */
export interface ServerView {
  /** The point every shard was read at (binlog file, position, GTID, time). */
  consistency: MysqlConsistency;
  shards: ShardReading[];
  /** The connection holding the read view (a data connection: results as raw bytes). */
  connection: Connection;
  end(): Promise<void>;
}

/** Opens one read view on the server of `settings` for all of `shards` and reads each one's delta, record and summary. */
export async function readServerShards(settings: ConnectionSettings, shards: readonly ServerShard[], cellTable: string, logger: Logger): Promise<ServerView> {
  const open = () => openDataConnection(settings);
  const control = await open();
  const view = await open();
  try {
    const version = await detectServerVersion(control);
    const floors = new Map<number, Awaited<ReturnType<typeof probeFloor>>>();
    for (const s of shards) if (!s.previous) floors.set(s.shard, await probeFloor(open, control, { database: s.database, table: cellTable }));
    const runningBefore = await runningTransactions(open);
    const snapshot = await openConsistentSnapshot(control, [view], version, { nonTransactional: false, logger });
    const openTransactions = await runningTransactions(open);
    const readings: ShardReading[] = [];
    for (const s of shards) {
      const table = { database: s.database, table: cellTable };
      const delta = await readShardDelta(view, table, s.previous
        ? { full: false, previous: s.previous, previousFinal: allEnded(s.previous.openTransactions, runningBefore) }
        : { full: true, floor: floorFor(floors.get(s.shard)!, runningBefore) }, openTransactions);
      readings.push({ shard: s.shard, database: s.database, ...delta, summary: await summariseCells(view, table) });
    }
    await control.end();
    return {
      consistency: snapshot.consistency,
      shards: readings,
      connection: view,
      async end() {
        await view.query('COMMIT').catch(() => undefined);
        await view.end();
      },
    };
  } catch (error) {
    await Promise.all([control.end().catch(() => undefined), view.end().catch(() => undefined)]);
    throw error;
  }
}
