/**
 * What a ZooKeeper backup records in its manifest, as schemas (the plugin's `recordSchemas`): core
 * checks a snapshot's record and a manifest's against them, and the driver reads them back typed.
 */
import { z } from 'zod';

/** A zxid as `0x` and lower-case hex digits (zxids are 64-bit: never a JSON number). */
export const zxidField = z.string().regex(/^0x[0-9a-f]{1,16}$/, 'must be a zxid, 0x and hex digits');
const count = z.number().int().nonnegative();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256');

/** Which member the backup was taken from and what it ran. */
const source = {
  /** The member's client address. */
  member: z.string().min(1),
  /** e.g. `3.8.0`. */
  serverVersion: z.string().min(1),
  /** Its role when the backup started (`leader`, `follower`, `standalone`...). */
  role: z.string().min(1),
};

/**
 * The consistency point. Host-local: the last zxid the files cover (the restore replays the logs
 * over the snapshot up to it), the snapshot's own zxid, the epochs. Logical: the highest `mzxid`
 * the walk saw (a walk is not one point in time: see the README).
 */
export const zookeeperConsistencySchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('host-local'),
    zxid: zxidField,
    snapshotZxid: zxidField,
    /** The epoch of the last zxid: what a restored member's `currentEpoch`/`acceptedEpoch` say. */
    epoch: count,
    /** The epochs the snapshot and the replayed transactions span, oldest first. */
    epochs: z.array(count).min(1),
    ...source,
  }).strict(),
  z.object({
    mode: z.literal('logical'),
    zxid: zxidField,
    ...source,
  }).strict(),
]);
export type ZooKeeperConsistency = z.infer<typeof zookeeperConsistencySchema>;

/** What validation compares with: the tree's node count and digest (tree-digest.ts), and the files. */
export const zookeeperFactsSchema = z.object({
  nodeCount: count,
  treeDigest: sha256,
  /** Host-local: the snapshot file and the logs, by artifact name. */
  snapshotFile: z.string().min(1).optional(),
  logFiles: z.array(z.string().min(1)).optional(),
  /** Host-local: where the snapshot came from, the member's AdminServer (3.9 `snapshot` command) or its dataDir. */
  snapshotSource: z.enum(['admin-snapshot', 'data-dir']).optional(),
  /** Transactions replayed over the snapshot to reach the zxid. */
  replayedTxns: count.optional(),
}).strict();
export type ZooKeeperFacts = z.infer<typeof zookeeperFactsSchema>;

/** The record of a snapshot or backup, typed (core checked it against the schemas already). */
export function zookeeperRecord(record: { consistency: unknown; facts: unknown }): { consistency: ZooKeeperConsistency; facts: ZooKeeperFacts } {
  return { consistency: zookeeperConsistencySchema.parse(record.consistency), facts: zookeeperFactsSchema.parse(record.facts) };
}

/** `0x…` of a zxid. */
export function zxidHex(zxid: bigint): string {
  return `0x${zxid.toString(16)}`;
}

/** What the files of a host-local backup must end at: its zxid and tree (files/validate-files.ts `expected`). */
export function recordedEnd(zxid: string, facts: Pick<ZooKeeperFacts, 'nodeCount' | 'treeDigest'>): { lastZxid: bigint; summary: { nodeCount: number; digest: string } } {
  return { lastZxid: BigInt(zxid), summary: { nodeCount: facts.nodeCount, digest: facts.treeDigest } };
}
