/**
 * Work on many shards (or partitions) of a target at once, bounded per server: each job gets a
 * connection of its own to its shard's server (a connection streams one result at a time), at most
 * `perServer` jobs run on one server (its cores are the bound: Node mostly waits), the servers at
 * once. Connections are opened as jobs need them, reused by the server's next jobs, and ended when
 * the run ends. The failure rule is {@link mapLimited}'s: the first error, once the running jobs settled.
 */
import type { Connection } from 'mysql2/promise';
import { mapLimited, mapLimitedWith } from '../../../core/concurrency';
import { openReadConnection } from '../shared/target-connection';
import type { ShardConnection } from './derived-index';
import type { ShardMap, TargetServer } from './target-shards';

/** How a run reaches the servers. */
export interface LaneOptions {
  /** Jobs at once on one server (default 2). */
  perServer?: number;
  /** Opens a connection to a server (default: a raw-bytes read connection). */
  open?: (server: TargetServer) => Promise<Connection>;
}

/** Streams a run keeps open on one server unless told otherwise. */
export const DEFAULT_PER_SERVER = 2;

/**
 * Calls `fn` for every item, with a connection to the server of the shard `shardOf(item)` names
 * (see the file comment); resolves with the results in item order.
 */
export async function mapShards<T, R>(
  target: ShardMap, items: readonly T[], shardOf: (item: T) => number, fn: (item: T, shard: ShardConnection) => Promise<R>, options: LaneOptions = {},
): Promise<R[]> {
  const open = options.open ?? openReadConnection;
  const placeOf = (item: T) => {
    const place = target.shards.find((s) => s.shard === shardOf(item));
    if (!place) throw new Error(`shard ${shardOf(item)} is not in the shard map`);
    return place;
  };
  const jobs = items.map((item, index) => ({ item, index, place: placeOf(item) }));
  const results: R[] = new Array(items.length);
  const servers = target.servers.filter((server) => jobs.some((job) => job.place.server === server.name));
  await mapLimited(servers, servers.length, function runServer(server) {
    const lanes = { open: () => open(server), close: (connection: Connection) => connection.end().catch(() => undefined) };
    return mapLimitedWith(jobs.filter((job) => job.place.server === server.name), options.perServer ?? DEFAULT_PER_SERVER, lanes, async function runJob(job, connection) {
      results[job.index] = await fn(job.item, { shard: job.place.shard, database: job.place.database, connection });
    });
  });
  return results;
}
