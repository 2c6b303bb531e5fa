/**
 * The shards of a restore target, each on its server: connections opened once per server and
 * shared by that server's shards (index checks and summaries use them one statement at a time).
 */
import type { Connection } from 'mysql2/promise';
import { openReadConnection } from '../mysql/shared/target-connection';
import type { SchemalessRestoreTarget } from './config';
import type { ShardConnection } from './index-check';

export type TargetServer = SchemalessRestoreTarget['servers'][number];

/** The target's server of each shard. */
export function serverOfShard(target: SchemalessRestoreTarget, shard: number): TargetServer {
  const entry = target.shards.find((s) => s.shard === shard)!;
  return target.servers.find((s) => s.name === entry.server)!;
}

/** Every target shard with a connection to its server (opened with `open`, one per server); `close` ends them. */
export async function connectShards(
  target: SchemalessRestoreTarget, open: (server: TargetServer) => Promise<Connection> = openReadConnection,
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
