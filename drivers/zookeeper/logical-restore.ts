/**
 * The logical restore, into a running ensemble through the client: the tree artifact downloaded
 * (sha256) and read through (trailer, digest) before the target is touched; a non-empty target
 * refused unless forced, and cleared only then; the tree created parents first, many requests in
 * flight (logical/tree-restore.ts). A marker in this restore's spool says it began writing the
 * target, so a retry of the same restore clears its own partial tree and starts over.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { downloadArtifacts } from '../../core/driver/download';
import type { PreparedTarget, RestoreContext, RestoreResult, TransferOptions } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { isOwnRestore, markRestoreDone, ownRestoreMarker, writeRestoreMarker } from '../../core/host/restore-marker';
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import { closeZooKeeper, openZooKeeper, type ZooKeeperClient } from './client';
import { connectString, type LogicalTarget } from './config';
import { TREE_ARTIFACT } from './logical-backup';
import { clearTree, treeIsEmpty } from './logical/restore-target';
import { planTreeRestore, restoreTree } from './logical/tree-restore';
import { zookeeperRecord } from './records';

const ENGINE = 'zookeeper';

/** Where this restore notes that it began writing the target (a file in its own spool). */
function markerDir(ctx: RestoreContext<LogicalTarget>): string {
  return path.join(ctx.spoolDir, 'target-tree');
}

function treeNotEmpty(ctx: RestoreContext<LogicalTarget>, detail: string): PermanentError {
  return new PermanentError(
    `restore target tree of ${ctx.target.servers.join(',')} is not empty (${detail}); pass --force to replace it — it is replaced only after the backup has been downloaded and verified`,
    { code: 'TARGET_NOT_EMPTY', engine: ENGINE },
  );
}

/** Sessions the restore creates nodes over (parallel-creates.ts): one session tops out early. */
export const RESTORE_SESSIONS = 4;

async function withTarget<T>(ctx: RestoreContext<LogicalTarget>, use: (client: ZooKeeperClient, more: ZooKeeperClient[]) => Promise<T>, sessions = 1): Promise<T> {
  const { target } = ctx;
  const open = () => openZooKeeper({ connectString: connectString(target.servers), auth: target.auth, sessionTimeoutMs: target.sessionTimeoutMs });
  const opened = await Promise.allSettled(Array.from({ length: sessions }, open));
  const clients = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  try {
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return await use(clients[0], clients.slice(1));
  } finally {
    clients.forEach(closeZooKeeper);
  }
}

/** Refuses a target whose tree holds anything, unless forced or it is this restore's own partial tree. Never destructive. */
export async function prepareLogical(ctx: RestoreContext<LogicalTarget>): Promise<PreparedTarget> {
  const identity = { backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir };
  const empty = await withTarget(ctx, treeIsEmpty);
  const own = await isOwnRestore(markerDir(ctx), identity);
  if (!empty && !own && !ctx.force) {
    throw treeNotEmpty(ctx, 'it holds nodes besides / and /zookeeper');
  }
  if (!empty && !own) ctx.logger.warn('zookeeper restore: --force given, the target tree will be replaced', { servers: ctx.target.servers });
  return { details: { replace: !empty, servers: ctx.target.servers.join(',') } };
}

export async function restoreLogical(ctx: RestoreContext<LogicalTarget>, transfer: TransferOptions): Promise<RestoreResult> {
  const started = Date.now();
  const { backup, logger } = ctx;
  const { consistency, facts } = zookeeperRecord(backup);
  const artifact = backup.artifacts.find((a) => path.posix.basename(a.name) === TREE_ARTIFACT);
  if (consistency.mode !== 'logical' || !artifact) {
    throw new PermanentError(`backup ${backup.backupId} is not a logical ZooKeeper backup (${consistency.mode}): restore it to a host-local target ({ "members": [...] })`, { code: 'INVALID_TARGET', engine: ENGINE });
  }
  await mkdir(ctx.spoolDir, { recursive: true });
  const { files, bytes } = await downloadArtifacts([artifact], ctx.spoolDir, transfer);
  const file = files[artifact.name];
  // The artifact read through (its trailer, kinds, sequence bumps) before the target is touched: a forced restore clears it next.
  const plan = await planTreeRestore(file);
  const summary = plan.expected;
  if (summary.nodeCount !== facts.nodeCount || summary.digest !== facts.treeDigest) {
    throw new PermanentError(`backup ${backup.backupId}'s tree (${summary.nodeCount} nodes, digest ${summary.digest}) is not what it recorded (${facts.nodeCount}, ${facts.treeDigest}); the target was not touched`, { code: 'BACKUP_CORRUPT', engine: ENGINE });
  }
  const identity = { backupId: backup.backupId, spoolDir: ctx.spoolDir };
  const result = await withTarget(ctx, async (client, more) => {
    const empty = await treeIsEmpty(client);
    if (!empty && !ctx.force && !(await isOwnRestore(markerDir(ctx), identity))) {
      throw treeNotEmpty(ctx, 'it changed after the prepare step, and this restore did not write it');
    }
    // Before the first change: a clear that stops half way is this restore's partial work.
    const marked = () => writeRestoreMarker(markerDir(ctx), identity);
    if (!empty) logger.warn('zookeeper restore: cleared the target tree', { deleted: await clearTree(client, { beforeChange: marked }) });
    else await marked();
    // The validate step walks every server of the target: no walk here as well.
    return restoreTree(client, file, { check: false, moreSessions: more, plan });
  }, RESTORE_SESSIONS);
  await markRestoreDone(markerDir(ctx), identity);
  logger.info('zookeeper restore: tree restored', { created: result.created, aclsSet: result.aclsSet, sequenceBumps: result.sequenceBumpPairs });
  return { endpoint: { servers: ctx.target.servers, nodes: result.expected.nodeCount }, bytes, durationMs: Date.now() - started };
}

/** After a failed logical restore: what the target's tree holds, by this restore's marker (no server is started, none stopped). */
export async function cleanupLogical(ctx: RestoreContext<LogicalTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
  const marker = await ownRestoreMarker(markerDir(ctx), { backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir });
  const condition = progress.result || marker?.done ? 'restored' : marker ? 'partial' : 'untouched';
  const tree = `the tree of ${ctx.target.servers.join(',')}`;
  const detail = {
    restored: `${tree} holds backup ${ctx.backup.backupId} as restored; the failure came after the restore`,
    partial: progress.prepared?.details.replace === true
      ? `${tree} was being replaced: it may hold what the forced restore had not yet deleted of its previous nodes, and part of backup ${ctx.backup.backupId} (the error says how far it went): restore it again with force`
      : `${tree} holds part of backup ${ctx.backup.backupId}: restore it again with force`,
    untouched: `${tree} was not written to`,
  }[condition];
  return { target: condition, detail, stopped: [] };
}
