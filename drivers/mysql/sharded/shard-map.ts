/**
 * The configuration of a store spread over MySQL servers (Schemaless shards, Docstore partitions):
 * its servers, each named, and where each numbered part lives — a database on one of them. The
 * same shape describes a source and a restore target, with any number of servers.
 */
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { connectionShape, mysqlEndpoint } from '../shared/connection-config';
import { machineOf } from '../../../core/host/machine-name';

/** One MySQL server of the store: a node of the backup, named in the map. */
export const namedServerSchema = z.strictObject({
  /** The server's name in the map (and the backup's node name). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ - (a node name)'),
  ...connectionShape,
});

/** A part placed on a server: its number, the server's name, the database. */
export interface Placement {
  number: number;
  server: string;
  database: string;
}

/**
 * What is wrong with a map: parts must be numbered 0…N-1, each once; each on a listed server; a
 * database (on one host and port, whatever names the server has: `localhost` and `127.0.0.1` are one) holding one part; every server named once. `unit` names the parts in messages (shard, partition).
 */
export function placementProblems(servers: ReadonlyArray<{ name: string; host: string; port: number; socketPath?: string }>, places: readonly Placement[], unit: string): string[] {
  const problems: string[] = [];
  const names = servers.map((s) => s.name);
  const duplicateServers = names.filter((n, i) => names.indexOf(n) !== i);
  if (duplicateServers.length > 0) problems.push(`servers named more than once: ${[...new Set(duplicateServers)].join(', ')}`);
  const numbers = places.map((s) => s.number).sort((a, b) => a - b);
  if (numbers.some((n, i) => n !== i)) problems.push(`${unit}s must be numbered 0 to ${places.length - 1}, each once (got ${numbers.join(', ')})`);
  for (const s of places) if (!names.includes(s.server)) problems.push(`${unit} ${s.number} is on server '${s.server}', which is not listed`);
  // By where the server is, not its name: two names for one server must not hold one database twice.
  const endpoint = (name: string) => {
    const server = servers.find((s) => s.name === name);
    return server ? mysqlEndpoint({ ...server, host: machineOf(server.host) }) : name;
  };
  const databases = places.map((s) => `${endpoint(s.server)}/${s.database}`);
  const shared = places.filter((_, i) => databases.indexOf(databases[i]) !== i).map((s) => `${s.server}/${s.database}`);
  if (shared.length > 0) problems.push(`a database holds more than one ${unit}: ${[...new Set(shared)].join(', ')}`);
  return problems;
}

/** The part (shard, partition) a key is placed on among `count`: `CRC32(key) % count` (MySQL's CRC32 is zlib's: the same in SQL and here). */
export function shardOf(key: Uint8Array, count: number): number {
  return crc32(key) % count;
}
