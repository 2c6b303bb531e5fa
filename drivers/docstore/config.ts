/**
 * Configuration of a Docstore instance (the reference layout: layout.ts): the MySQL servers its
 * partitions live on, which partition is which database on which server, and the schema table's
 * name (the schema table names every other table).
 */
import { z } from 'zod';
import { identifier } from '../mysql/shared/connection-config';
import { namedServerSchema, placementProblems } from '../mysql/sharded/shard-map';

const partitionSchema = z.strictObject({
  partition: z.number().int().nonnegative(),
  /** A server's `name`. */
  server: z.string().min(1),
  database: identifier,
});

/** Adds the partition map's problems to a schema holding `servers` and `partitions`. */
function withPartitionMap<T extends z.ZodType<{ servers: Array<{ name: string; host: string; port: number; socketPath?: string }>; partitions: Array<{ partition: number; server: string; database: string }> }>>(schema: T) {
  return schema.superRefine((value, ctx) => {
    const places = value.partitions.map((p) => ({ number: p.partition, server: p.server, database: p.database }));
    for (const message of placementProblems(value.servers, places, 'partition')) ctx.addIssue({ code: 'custom', message, path: ['partitions'] });
  });
}

export const docstoreConfigSchema = withPartitionMap(z.strictObject({
  servers: z.array(namedServerSchema).min(1),
  partitions: z.array(partitionSchema).min(1),
  /** The schema table of every partition database. */
  schemaTable: identifier.default('docstore_schema'),
  /** Connections per server inside its read view: tables and chunk ranges dumped at once. */
  parallelism: z.number().int().min(1).max(64).default(4),
  /** Rows per chunk file. */
  chunkRows: z.number().int().min(1).default(200_000),
  /** Stream chunks straight into the store (default), or spool them on the host and upload after. */
  streamToStore: z.boolean().default(true),
}));
export type DocstoreConfig = z.infer<typeof docstoreConfigSchema>;

/** Where to restore: the target's servers and which partition goes to which database there (any number of servers). */
export const docstoreRestoreTargetSchema = withPartitionMap(z.strictObject({
  servers: z.array(namedServerSchema).min(1),
  partitions: z.array(partitionSchema).min(1),
  /** Connections loading a server's tables at once; also the partitions validated, and the streams the index check reads a server with, at once per server. */
  parallelism: z.number().int().min(1).max(64).default(4),
}));
export type DocstoreRestoreTarget = z.infer<typeof docstoreRestoreTargetSchema>;

/** A partition map as the shared sharded parts take it (drivers/mysql/sharded). */
export function asShardMap<T extends { servers: DocstoreConfig['servers']; partitions: DocstoreConfig['partitions'] }>(value: T) {
  return { servers: value.servers, shards: value.partitions.map((p) => ({ shard: p.partition, server: p.server, database: p.database })) };
}
