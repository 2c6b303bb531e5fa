/**
 * Configuration of a Schemaless instance (the reference layout: layout.ts): the MySQL servers its
 * shards live on, which shard is which database on which server, and the names of its tables. A
 * store laid out otherwise maps onto it here: names are configuration, never assumed.
 */
import { z } from 'zod';
import { identifier } from '../mysql/shared/connection-config';
import { namedServerSchema, placementProblems } from '../mysql/sharded/shard-map';

/** Where one shard lives. */
const shardSchema = z.strictObject({
  shard: z.number().int().nonnegative(),
  /** A server's `name`. */
  server: z.string().min(1),
  database: identifier,
});

/** A secondary index: entries `(index_key, row_key, column_name, ref_key)` in a table of every shard, placed by the index key. */
const indexSchema = z.strictObject({
  /** The index table's name in each shard database. */
  table: identifier,
  /** The cells it indexes: those of this column. */
  column: identifier,
  /** The field of the cell's JSON body whose value is the index key (a JSON path: `$.email`). */
  field: z.string().regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/, 'a JSON path like $.email'),
});

/** Adds the shard map's problems (placementProblems) to a schema holding `servers` and `shards`. */
function withShardMap<T extends z.ZodType<{ servers: Array<{ name: string; host: string; port: number; socketPath?: string }>; shards: Array<{ shard: number; server: string; database: string }> }>>(schema: T) {
  return schema.superRefine((value, ctx) => {
    const places = value.shards.map((s) => ({ number: s.shard, server: s.server, database: s.database }));
    for (const message of placementProblems(value.servers, places, 'shard')) ctx.addIssue({ code: 'custom', message, path: ['shards'] });
  });
}

export const schemalessConfigSchema = withShardMap(z.strictObject({
  servers: z.array(namedServerSchema).min(1),
  shards: z.array(shardSchema).min(1),
  /** The cell table of every shard database. */
  cellTable: identifier.default('cell'),
  indexes: z.array(indexSchema).default([]),
  /**
   * Writes a master accepted for a shard it does not hold yet, waiting to be applied there: backed
   * up with the cells, in the same read view (see the README for why not waited for).
   */
  bufferedWritesTable: identifier.optional(),
  /** Connections per server inside its read view: tables and chunk ranges dumped at once. */
  parallelism: z.number().int().min(1).max(64).default(4),
  /** Rows per chunk file; a chunk is written, checked and retried as a unit. */
  chunkRows: z.number().int().min(1).default(200_000),
  /** Stream chunks straight into the store (default), or spool them on the host and upload after. */
  streamToStore: z.boolean().default(true),
}));
export type SchemalessConfig = z.infer<typeof schemalessConfigSchema>;

/** Where to restore: the target's servers and which shard goes to which database there (any number of servers). */
export const schemalessRestoreTargetSchema = withShardMap(z.strictObject({
  servers: z.array(namedServerSchema).min(1),
  shards: z.array(shardSchema).min(1),
  /** Rebuild every index from the restored cells (then check it), instead of restoring the backed-up entries. */
  rebuildIndexes: z.boolean().default(false),
  /** Keep only the cells created at or before this time (ISO 8601): cells are never updated, so this is exact. */
  pointInTime: z.iso.datetime({ offset: true }).optional(),
  /** Shards loaded at once per server; also the streams each check of the restore reads a server with at once. */
  parallelism: z.number().int().min(1).max(64).default(4),
}));
export type SchemalessRestoreTarget = z.infer<typeof schemalessRestoreTargetSchema>;
