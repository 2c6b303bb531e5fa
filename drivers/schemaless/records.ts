/**
 * What a Schemaless backup records per node (one MySQL server): the read view's point and each
 * shard's watermark (consistency), and per shard what its artifacts hold (facts). Core checks
 * every snapshot and manifest against these schemas; the driver reads them back typed.
 */
import { z } from 'zod';
import { chunksNamedBy } from '../mysql/sharded/recorded-nodes';
import { mysqlConsistencySchema, tableFactsSchema } from '../mysql/shared/layout';
import { shardWatermarkSchema } from './watermark';

export const ENGINE = 'schemaless';

/** The part a table plays in a shard. */
export const tableRoleSchema = z.enum(['cells', 'index', 'buffered-writes']);
export type TableRole = z.infer<typeof tableRoleSchema>;

/** A dumped table of a shard: the MySQL driver's table facts, its role and the DDL that creates it. */
export const shardTableSchema = tableFactsSchema.extend({
  role: tableRoleSchema,
  /** `SHOW CREATE TABLE` in the source (no database name: applied in the target shard database). */
  ddl: z.string().min(1),
});
export type ShardTable = z.infer<typeof shardTableSchema>;

/** The summary of a shard's whole cell table in the backup's read view (cell-summary.ts). */
export const cellSummarySchema = z.strictObject({
  cells: z.number().int().nonnegative(),
  maxAddedId: z.string().regex(/^\d+$/),
  digest: z.string().regex(/^[0-9a-f]{32}$/),
});

export const shardFactsSchema = z.object({
  shard: z.number().int().nonnegative(),
  database: z.string(),
  /** A full copy of the shard's cells (and its index tables), or only the cells since the backup before. */
  kind: z.enum(['full', 'incremental']),
  /** The whole cell table as the read view saw it: what a restore of the chain up to this backup must hold. */
  summary: cellSummarySchema,
  /** Cells in this backup's artifacts: above the previous watermark, and late ones inside its gaps. */
  newCells: z.number().int().nonnegative(),
  lateCells: z.number().int().nonnegative(),
  tables: z.array(shardTableSchema),
});
export type ShardFacts = z.infer<typeof shardFactsSchema>;

export const schemalessFactsSchema = z.object({
  /** How many shards the instance has (all nodes together): a restore needs exactly this many. */
  shardCount: z.number().int().positive(),
  cellTable: z.string(),
  indexes: z.array(z.object({ table: z.string(), column: z.string(), field: z.string() })),
  bufferedWritesTable: z.string().optional(),
  shards: z.array(shardFactsSchema),
  digestAlgorithm: z.string(),
  valueEncoding: z.enum(['exact', 'server-text']),
});
export type SchemalessFacts = z.infer<typeof schemalessFactsSchema>;

export const schemalessConsistencySchema = mysqlConsistencySchema.extend({
  /** When the server's read view opened: a point in time after it is beyond this backup. */
  readAt: z.iso.datetime().optional(),
  shards: z.array(z.object({ shard: z.number().int().nonnegative(), database: z.string(), watermark: shardWatermarkSchema })),
});
export type SchemalessConsistency = z.infer<typeof schemalessConsistencySchema>;

/** A node's recorded facts, typed (core checked them against the schema already). */
export const recordedFacts = (record: { facts: unknown }): SchemalessFacts => schemalessFactsSchema.parse(record.facts);
/** Every table a node's facts record, its shards' in order: their chunks are all its artifacts (validated by the backup, loaded by a restore). */
export const dumpedTables = (facts: SchemalessFacts): ShardTable[] => facts.shards.flatMap((s) => s.tables);
/** The artifacts a node's record names (the plugin's `recordSchemas.artifactsNamed`): every chunk of its shards' tables. */
export const artifactsNamedBy = chunksNamedBy(schemalessFactsSchema, dumpedTables);
/** A node's recorded consistency point, typed. */
export const recordedConsistency = (record: { consistency: unknown }): SchemalessConsistency => schemalessConsistencySchema.parse(record.consistency);
