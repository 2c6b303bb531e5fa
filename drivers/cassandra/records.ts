/**
 * What a Cassandra backup records of each node in its manifest, as schemas (the plugin's
 * `recordSchemas`): core checks a snapshot's record and a manifest's against them, and the driver
 * reads them back typed. The token map is the union of the nodes' tokens (every node of the ring
 * is a node of the backup).
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();
const token = z.string().regex(/^-?\d{1,19}$/, 'must be a Murmur3 token');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256');

/** The node and the snapshot tag: where this node sits in the ring when its snapshot was taken. */
export const cassandraConsistencySchema = z.object({
  /** The snapshot tag on every node: the backup id. */
  tag: z.string().min(1),
  address: z.string().min(1),
  hostId: z.string(),
  dataCenter: z.string(),
  rack: z.string(),
  releaseVersion: z.string(),
  /** Its tokens, sorted as numbers. */
  tokens: z.array(token).min(1),
  /** Its data directories (JBOD): artifact `d<i>/…` came from the i-th. */
  dataDirs: z.array(z.string()).min(1),
});
export type CassandraConsistency = z.infer<typeof cassandraConsistencySchema>;

/** Rows and a digest of a table's rows whose partition tokens fall in this node's primary ranges (all of them, or a sample). */
export const tableDigestSchema = z.object({
  mode: z.enum(['full', 'sample']),
  /** How many token spans were read. */
  spans: count,
  rows: count,
  sha256,
  /**
   * The same rows and digest just before and just after the snapshot: the snapshot holds exactly
   * them. False when the table was written meanwhile (then no restore can be compared with them).
   */
  stable: z.boolean(),
  /**
   * Rows read held cells with a TTL (backups before this field: not looked for). Such rows may
   * have expired by the time a restore reads the table, so it is compared by its count, at most
   * the backup's, not by its digest.
   */
  expiring: z.literal(true).optional(),
  /**
   * `exact`: maps digested as decoded (`Map`, canonical-row.ts), every key exact. Absent (backups
   * before it): as the driver's plain objects named their keys, which a restore reads them as
   * again (canonical-row.ts `withMapsAsObjects`), so their digests still compare.
   */
  mapKeys: z.literal('exact').optional(),
  /**
   * `exact`: decimals digested by their exact text (canonical-row.ts). Absent (backups before
   * it): as the driver's text, which drops a negative scale (1E+3 and 1E+4 alike), and which a
   * restore reads them as again (canonical-row.ts `DecimalForm`).
   */
  decimals: z.literal('exact').optional(),
});
export type TableDigest = z.infer<typeof tableDigestSchema>;

export const tableFactsSchema = z.object({
  keyspace: z.string().min(1),
  table: z.string().min(1),
  /** Its id when backed up (its directory `<table>-<id>`); a recreated table has another. */
  id: z.string().min(1),
  counter: z.boolean(),
  /** Its partition key columns (the digest reads `token(...)` of them). */
  partitionKeys: z.array(z.string().min(1)).min(1),
  sstables: count,
  bytes: count,
  digest: tableDigestSchema,
});
export type TableFacts = z.infer<typeof tableFactsSchema>;

export const cassandraFactsSchema = z.object({
  /** The artifact holding the schema as CQL (the same on every node). */
  schemaArtifact: z.string().min(1),
  schemaSha256: sha256,
  keyspaces: z.array(z.string()),
  tables: z.array(tableFactsSchema),
  sstables: count,
  /** SSTable bytes this node's backup holds, and how many of them it had to upload (the rest were in the pool). */
  bytes: count,
  uploadedBytes: count,
  /** How long the node took to pool its SSTables (hash, check, upload what the pool lacked): `bytes / poolMs` is its upload throughput. */
  poolMs: count.optional(),
});
export type CassandraFacts = z.infer<typeof cassandraFactsSchema>;

/** A node's record, typed (core checked it against the schemas already). */
export function cassandraRecord(record: { consistency: unknown; facts: unknown }): { consistency: CassandraConsistency; facts: CassandraFacts } {
  return { consistency: cassandraConsistencySchema.parse(record.consistency), facts: cassandraFactsSchema.parse(record.facts) };
}
