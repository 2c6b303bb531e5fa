/**
 * The proof a restore worked, member by member: each serves, each holds the backup's tree (node
 * count and digest of a walk through a client connected to that member alone, after a `sync`), a
 * host-local restore's members are at or past the recorded zxid, and an ensemble has exactly one
 * leader.
 */
import { PermanentError } from '../../core/errors';
import type { RestoreContext, ValidationCheck, ValidationReport } from '../../core/driver/types';
import { serverStatus, type ServerStatus } from './four-letter';
import { parseAddress, type ZooKeeperRestoreTarget } from './config';
import { closeZooKeeper, openZooKeeper, type ZooKeeperAuth } from './client';
import { treeSummary } from './logical/tree-walk';
import { zookeeperRecord, zxidHex } from './records';
import { clientAddress } from './host-local/restored-members';

/** The client addresses of a target's servers. */
export function targetServers(target: ZooKeeperRestoreTarget): string[] {
  return target.mode === 'logical' ? target.servers : target.members.map(clientAddress);
}

/** The tree summary one server serves, read through a client connected to it alone, after a `sync` (a follower has caught up). */
async function summaryAt(server: string, auth: readonly ZooKeeperAuth[] | undefined): Promise<{ nodeCount: number; digest: string }> {
  const client = await openZooKeeper({ connectString: server, auth });
  try {
    await client.sync('/');
    return await treeSummary(client);
  } finally {
    closeZooKeeper(client);
  }
}

/**
 * A tree the target's `auth` may not read whole (a node it may not read, an ACL it may not see):
 * the restore is not proven, which the check says, and what was restored is left serving.
 * @throws any other error
 */
function unreadableTree(error: unknown): { unreadable: string } {
  const code = (error as { code?: unknown }).code;
  if (error instanceof PermanentError && code === 'AUTH_FAILED') {
    return { unreadable: `not proven: the target's auth cannot read the whole tree (${error.message}); give it READ and ADMIN on every node (the super digest, say)` };
  }
  throw error;
}

export async function validateRestoredTree(ctx: RestoreContext<ZooKeeperRestoreTarget>): Promise<ValidationReport> {
  const { target, backup } = ctx;
  const { consistency, facts } = zookeeperRecord(backup);
  const checks: ValidationCheck[] = [];
  const statuses: ServerStatus[] = [];
  for (const server of targetServers(target)) {
    const status = await serverStatus(parseAddress(server));
    statuses.push(status);
    const summary = await summaryAt(server, target.auth).catch(unreadableTree);
    checks.push('unreadable' in summary ? { name: `tree@${server}`, ok: false, detail: summary.unreadable, inconclusive: true } : {
      name: `tree@${server}`,
      ok: summary.nodeCount === facts.nodeCount && summary.digest === facts.treeDigest,
      detail: `${summary.nodeCount} nodes, digest ${summary.digest}; recorded ${facts.nodeCount}, ${facts.treeDigest}`,
    });
    // Standalone only: a restored ensemble's new leader starts a new epoch, past any older zxid.
    if (consistency.mode === 'host-local' && targetServers(target).length === 1) {
      checks.push({
        name: `zxid@${server}`,
        ok: status.zxid >= BigInt(consistency.zxid),
        detail: `serving zxid ${zxidHex(status.zxid)}, the backup's ${consistency.zxid}`,
      });
    }
  }
  if (target.mode === 'host-local' && target.members.length > 1) {
    const leaders = statuses.filter((s) => s.mode === 'leader').length;
    checks.push({ name: 'one-leader', ok: leaders === 1, detail: `roles: ${statuses.map((s) => s.mode).join(', ')}` });
  }
  return { ok: checks.every((c) => c.ok), checks };
}
