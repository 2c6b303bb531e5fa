/**
 * What a Docstore backup records per node (one MySQL server): the read view's point (consistency)
 * and, per partition it holds, its tables (facts). Core checks every snapshot and manifest against
 * these schemas; the driver reads them back typed.
 */
import { z } from 'zod';
import { chunksNamedBy } from '../mysql/sharded/recorded-nodes';
import { mysqlConsistencySchema, tableFactsSchema } from '../mysql/shared/layout';
import { tableDefinitionSchema } from './layout';

export const ENGINE = 'docstore';

export const tableRoleSchema = z.enum(['schema', 'documents', 'index']);
export type TableRole = z.infer<typeof tableRoleSchema>;

export const partitionTableSchema = tableFactsSchema.extend({ role: tableRoleSchema, ddl: z.string().min(1) });
export type PartitionTable = z.infer<typeof partitionTableSchema>;

export const partitionFactsSchema = z.object({
  partition: z.number().int().nonnegative(),
  database: z.string(),
  tables: z.array(partitionTableSchema),
});
export type PartitionFacts = z.infer<typeof partitionFactsSchema>;

export const docstoreFactsSchema = z.object({
  /** How many partitions the instance has (all nodes together): a restore needs exactly this many. */
  partitionCount: z.number().int().positive(),
  schemaTable: z.string(),
  /** The schema table's definitions as this node's read view saw them. */
  definitions: z.record(z.string(), tableDefinitionSchema),
  partitions: z.array(partitionFactsSchema),
  digestAlgorithm: z.string(),
  valueEncoding: z.enum(['exact', 'server-text']),
});
export type DocstoreFacts = z.infer<typeof docstoreFactsSchema>;

export const docstoreConsistencySchema = mysqlConsistencySchema.extend({
  partitions: z.array(z.object({ partition: z.number().int().nonnegative(), database: z.string() })),
  /**
   * Always false: each server is read at its own point (its GTID above); no snapshot spans the
   * partitions, so an index entry and its document on two servers may disagree — a restore repairs that.
   */
  globalSnapshot: z.literal(false),
});
export type DocstoreConsistency = z.infer<typeof docstoreConsistencySchema>;

export const recordedFacts = (record: { facts: unknown }): DocstoreFacts => docstoreFactsSchema.parse(record.facts);

/** Every table a node's facts record, its partitions' in order: their chunks are all its artifacts (validated by the backup, loaded by a restore). */
export const dumpedTables = (facts: DocstoreFacts): PartitionTable[] => facts.partitions.flatMap((p) => p.tables);
/** The artifacts a node's record names (the plugin's `recordSchemas.artifactsNamed`): every chunk of its partitions' tables. */
export const artifactsNamedBy = chunksNamedBy(docstoreFactsSchema, dumpedTables);

/**
 * A node whose recorded schema table differs from the first node's, and that first node; undefined
 * when every node read one schema, as a restore needs (one schema for every partition). A node
 * that holds no partition read no schema table, and is passed over.
 */
export function schemaOutlier<N extends { facts: DocstoreFacts }>(nodes: readonly N[]): { node: N; first: N } | undefined {
  const [first, ...others] = nodes.filter((n) => n.facts.partitions.length > 0);
  const node = others.find((n) => JSON.stringify(n.facts.definitions) !== JSON.stringify(first.facts.definitions));
  return node ? { node, first } : undefined;
}

