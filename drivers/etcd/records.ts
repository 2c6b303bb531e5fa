/**
 * What an etcd backup records in its manifest, as schemas (the plugin's `recordSchemas`): core
 * checks a snapshot's record and a manifest's against them, and the driver reads them back typed.
 */
import { z } from 'zod';

const hexId = z.string().regex(/^[0-9a-f]+$/, 'must be a hex id');
const count = z.number().int().nonnegative();

/** The consistency point: the store revision the snapshot holds, and the member that took it. */
export const etcdConsistencySchema = z.object({
  revision: count,
  clusterId: hexId,
  memberId: hexId,
  etcdVersion: z.string().min(1),
  endpoint: z.string().min(1),
  raftTerm: count,
});
export type EtcdConsistency = z.infer<typeof etcdConsistencySchema>;

/** What validation compares with: the keys at the revision, and `snapshot status` of the file. */
export const etcdFactsSchema = z.object({
  keyCount: count,
  kvDigest: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256'),
  snapshotRevision: count,
  snapshotHash: count,
  snapshotTotalKey: count,
  snapshotTotalSize: count,
  trailerSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256'),
});
export type EtcdFacts = z.infer<typeof etcdFactsSchema>;

/** The record of a snapshot or backup, typed (core checked it against the schemas already). */
export function etcdRecord(record: { consistency: unknown; facts: unknown }): { consistency: EtcdConsistency; facts: EtcdFacts } {
  return { consistency: etcdConsistencySchema.parse(record.consistency), facts: etcdFactsSchema.parse(record.facts) };
}
