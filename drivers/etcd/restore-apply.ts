/**
 * The stage, restore and start steps of an etcd restore, each on every node of the target (a node
 * is one host with the members whose `host` it is; one node for a target on one host):
 *
 * - stage: the snapshot is downloaded (sha256 re-checked) and its trailer verified;
 * - restore, once every node has staged: each member's data dir is written with `snapshot restore`
 *   (its own name and peer URL, the whole `--initial-cluster`, one new cluster token);
 * - start, once every node has restored: the members start together (when `target.start`).
 *
 * No data dir is touched before the snapshot is verified on every node, nor before every member
 * on the node has been found replaceable and stoppable.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../core/errors';
import { replaceableEntries } from '../../core/host/data-dir-target';
import { markRestoreDone, writeRestoreMarker } from '../../core/host/restore-marker';
import { downloadArtifacts } from '../../core/driver/download';
import type { JsonObject, RestoreContext, RestoreResult, StagedFiles, StoredArtifact, TransferOptions } from '../../core/driver/types';
import { snapshotRestore, type EtcdTool } from './etcd-tools';
import type { RunningMember } from './member';
import { dataDirRestore } from './restore-prepare';
import { restoreMembers, startRestoredMembers } from './restored-member';
import { clusterTokenFor, initialCluster, isClusterTarget, membersHere, targetMembers, type EtcdRestoreTarget, type TargetMember } from './restore-target';
import { verifySnapshotFile } from './snapshot-trailer';
import { ENGINE, SNAPSHOT_FILE } from './backup-driver';

/** The backup's one snapshot (its name may carry a node prefix, `default/snapshot.db`). */
function snapshotArtifact(ctx: RestoreContext<EtcdRestoreTarget>): StoredArtifact {
  const { backup } = ctx;
  const snapshots = backup.artifacts.filter((a) => path.posix.basename(a.name) === SNAPSHOT_FILE);
  if (snapshots.length !== 1) {
    throw new PermanentError(
      `backup ${backup.backupId} must have exactly one ${SNAPSHOT_FILE} artifact, has ${snapshots.length} (artifacts: ${backup.artifacts.map((a) => a.name).join(', ') || 'none'})`,
      { code: 'ARTIFACT_MISSING', engine: ENGINE },
    );
  }
  return snapshots[0];
}

/** The snapshot in the node's spool: downloaded, or kept from an earlier attempt when it hashes as recorded. */
async function spooledSnapshot(ctx: RestoreContext<EtcdRestoreTarget>, transfer: TransferOptions): Promise<{ snapshotPath: string; bytes: number }> {
  const artifact = snapshotArtifact(ctx);
  await mkdir(ctx.spoolDir, { recursive: true });
  const { files, bytes } = await downloadArtifacts([artifact], ctx.spoolDir, transfer);
  return { snapshotPath: files[artifact.name], bytes };
}

/** Stage: downloads the snapshot into the node's spool and verifies it. Touches no data dir. */
export async function stageEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, transfer: TransferOptions): Promise<StagedFiles> {
  ctx.logger.info('etcd restore: downloading snapshot', { node: ctx.node.name, size: snapshotArtifact(ctx).size });
  const { snapshotPath, bytes } = await spooledSnapshot(ctx, transfer);
  await verifySnapshotFile(snapshotPath);
  return { bytes };
}

/** The cluster every member is restored and started with. */
function clusterOf(ctx: RestoreContext<EtcdRestoreTarget>) {
  return { initialCluster: initialCluster(targetMembers(ctx.target)), clusterToken: clusterTokenFor(ctx.target, ctx.backup.backupId) };
}

/** How a member is described in the result. */
function describe(member: TargetMember, live?: RunningMember): JsonObject {
  const itsProcess: JsonObject = live ? { pid: live.pid, logFile: live.logFile, pidFile: live.pidFile } : {};
  return { clientUrl: member.clientUrl, peerUrl: member.peerUrl, dataDir: member.dataDir, name: member.name, started: live !== undefined, ...itsProcess };
}

/** The result's endpoint: a cluster's URLs and members, or the single member itself. */
function endpointOf(ctx: RestoreContext<EtcdRestoreTarget>, described: JsonObject[]): JsonObject {
  const cluster = clusterOf(ctx);
  return isClusterTarget(ctx.target)
    ? { clientUrl: targetMembers(ctx.target).map((m) => m.clientUrl).join(','), ...cluster, started: ctx.target.start, members: described }
    : { ...described[0], clusterToken: cluster.clusterToken };
}

/**
 * Restore: writes this node's members' data dirs from the staged snapshot (re-hashed: the spool
 * holds what stage verified). Idempotent: a retry stops the members it started, removes the data
 * dirs it wrote (recognised by their markers, core/host/restore-marker.ts) and starts over.
 */
export async function applyEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, transfer: TransferOptions, tool: EtcdTool): Promise<RestoreResult> {
  const started = Date.now();
  const { logger } = ctx;
  const members = membersHere(ctx);
  const { snapshotPath, bytes } = await spooledSnapshot(ctx, transfer);

  // Every member is checked before any is stopped or any data dir is touched.
  const servers = restoreMembers(ctx);
  const replaced: boolean[] = [];
  for (const member of members) {
    await servers.stoppable(member.dataDir);
    const { entries, own } = await replaceableEntries(dataDirRestore(ctx, member), true);
    replaced.push(entries.length > 0 && !own);
  }
  // Start clean: our members from an earlier attempt (or ones the target allows stopping), and the data dirs they (or etcdctl) left behind.
  await Promise.all(members.map((m) => servers.stop(m.dataDir)));

  const cluster = clusterOf(ctx);
  for (const [i, member] of members.entries()) {
    if (replaced[i]) logger.warn('etcd restore: replacing the data dir (--force)', { dataDir: member.dataDir });
    // The marker first: from here on, a retry of this restore, and a failed restore's cleanup, know the data dir is its own.
    await writeRestoreMarker(member.dataDir, dataDirRestore(ctx, member));
    await rm(member.dataDir, { recursive: true, force: true });
    logger.info('etcd restore: snapshot restore', { dataDir: member.dataDir, name: member.name, clusterToken: cluster.clusterToken, tool: tool.flavour });
    await snapshotRestore({ snapshotPath, name: member.name, dataDir: member.dataDir, peerUrl: member.peerUrl, ...cluster }, tool);
  }
  return { endpoint: endpointOf(ctx, members.map((m) => describe(m))), bytes, durationMs: Date.now() - started };
}

/** Start: starts this node's members together with every other node's (when `target.start`), and marks their data dirs restored. */
export async function startEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, result: RestoreResult): Promise<RestoreResult> {
  const members = membersHere(ctx);
  let running: RunningMember[] = [];
  if (ctx.target.start) {
    running = await startRestoredMembers(ctx, members, clusterOf(ctx));
    for (const m of running) ctx.logger.info('etcd restore: member started', { name: m.name, clientUrl: m.clientUrl, pid: m.pid, logFile: m.logFile });
  }
  for (const member of members) await markRestoreDone(member.dataDir, dataDirRestore(ctx, member));
  return { ...result, endpoint: endpointOf(ctx, members.map((m) => describe(m, running.find((r) => r.dataDir === m.dataDir)))) };
}
