/**
 * The logical backup: a walk of the tree through the client, connected to one member (chosen as a
 * host-local backup chooses: highest zxid, a follower on a tie), streamed into one artifact with
 * the node count, digest and highest `mzxid` in its trailer. A walk is not one point in time: each
 * node is as it was when read, and the recorded zxid is the newest change the walk saw.
 */
import path from 'node:path';
import type { BackupContext, SnapshotRef, SnapshotTaken, ValidationCheck } from '../../core/driver/types';
import { resolveInside } from '../../core/io/resolve-inside';
import { chooseMember } from './choose-member';
import { closeZooKeeper, openZooKeeper } from './client';
import type { ZooKeeperConfig } from './config';
import { verifyTreeArtifact, writeTreeArtifact } from './logical/tree-artifact';
import { walkTree } from './logical/tree-walk';
import { zxidHex, type ZooKeeperFacts } from './records';

/** The one node of a logical backup. */
export const LOGICAL_NODE = 'tree';
/** The one artifact of a logical backup. */
export const TREE_ARTIFACT = 'tree.ndjson';

export async function logicalSnapshot(ctx: BackupContext<ZooKeeperConfig>): Promise<SnapshotTaken> {
  const { config, logger } = ctx;
  const chosen = await chooseMember(config);
  const member = config.members[chosen.index].address;
  const client = await openZooKeeper({ connectString: member, auth: config.auth, sessionTimeoutMs: config.sessionTimeoutMs });
  try {
    logger.info('zookeeper logical backup: walking the tree', { member, role: chosen.status.mode });
    const file = resolveInside(ctx.spoolDir, TREE_ARTIFACT);
    const written = await writeTreeArtifact(file, walkTree(client, { refuseMaskedAcls: true }));
    logger.info('zookeeper logical backup: walked', { nodes: written.nodeCount, bytes: written.bytes });
    return {
      artifacts: [{ name: path.basename(file), size: written.bytes, sha256: written.fileSha256 }],
      consistency: { mode: 'logical', zxid: zxidHex(BigInt(written.maxMzxid)), member, serverVersion: chosen.status.version, role: chosen.status.mode },
      facts: { nodeCount: written.nodeCount, treeDigest: written.digest },
    };
  } finally {
    closeZooKeeper(client);
  }
}

/** The artifact read through to its trailer, its digest recomputed, equal to the record. */
export async function validateLogicalSnapshot(_ctx: BackupContext<ZooKeeperConfig>, snapshot: SnapshotRef, facts: ZooKeeperFacts): Promise<ValidationCheck[]> {
  try {
    const summary = await verifyTreeArtifact(resolveInside(snapshot.spoolDir, TREE_ARTIFACT));
    return [{
      name: 'tree-artifact',
      ok: summary.nodeCount === facts.nodeCount && summary.digest === facts.treeDigest,
      detail: `${summary.nodeCount} nodes, digest ${summary.digest}; recorded ${facts.nodeCount}, ${facts.treeDigest}`,
    }];
  } catch (error) {
    return [{ name: 'tree-artifact', ok: false, detail: (error as Error).message }];
  }
}
