/**
 * The scratch target of a sharded store's restore drill (Schemaless shards, Docstore partitions):
 * one fresh MariaDB on this host holding every shard of the backup, each in its own database —
 * another number of servers than the source, as a restore allows.
 */
import path from 'node:path';
import { onFreePorts } from '../../../core/host/ports';
import type { ScratchTarget } from '../../../core/drill/scratch-target';
import { startLocalMariaDb } from '../shared/local-server';

/** Starts the server; `place(server, count)` makes the driver's target of `count` shards on it. */
export async function startScratchServer(workDir: string, count: number, what: string, place: (server: Record<string, unknown>, count: number) => Record<string, unknown>): Promise<ScratchTarget> {
  const server = await onFreePorts(1, ([port]) => startLocalMariaDb({ dir: path.join(workDir, 'server'), port, serverId: 2 }));
  return {
    target: place({ name: 'scratch', host: server.host, port: server.port, user: 'root', password: '' }, count),
    description: `a scratch MariaDB on this host holding all ${count} ${what}`,
  };
}
