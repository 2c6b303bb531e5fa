/**
 * The restore step of an etcd restore: the snapshot is downloaded once (sha256 re-checked, trailer
 * verified), then each member's data dir is written with `snapshot restore` (its own name and
 * peer URL, the whole `--initial-cluster`, one new cluster token), and the members are started
 * together. No data dir is touched before the snapshot is verified, nor before every member has
 * been found replaceable and stoppable.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../core/errors';
import { replaceableEntries } from '../../core/host/data-dir-target';
import { markRestoreDone, writeRestoreMarker } from '../../core/host/restore-marker';
import { downloadArtifacts } from '../../core/driver/download';
import type { JsonObject, RestoreContext, RestoreResult, StoredArtifact, TransferOptions } from '../../core/driver/types';
import { snapshotRestore, type EtcdTool } from './etcd-tools';
import type { RunningMember } from './member';
import { dataDirRestore } from './restore-prepare';
import { restoreMembers, startRestoredMembers } from './restored-member';
import { clusterTokenFor, initialCluster, isClusterTarget, targetMembers, type EtcdRestoreTarget } from './restore-target';
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

/**
 * Restores the snapshot into every member's data dir and starts the members when `target.start`.
 * Idempotent: a retry stops the members it started, removes the data dirs it wrote (recognised by
 * their markers, core/host/restore-marker.ts) and starts over.
 */
export async function applyEtcdRestore(ctx: RestoreContext<EtcdRestoreTarget>, transfer: TransferOptions, tool: EtcdTool): Promise<RestoreResult> {
  const started = Date.now();
  const { target, backup, logger } = ctx;
  const artifact = snapshotArtifact(ctx);
  const members = targetMembers(target);

  await mkdir(ctx.spoolDir, { recursive: true });
  logger.info('etcd restore: downloading snapshot', { key: artifact.key, size: artifact.size });
  const { files, bytes } = await downloadArtifacts([artifact], ctx.spoolDir, transfer);
  const snapshotPath = files[artifact.name];
  await verifySnapshotFile(snapshotPath);

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

  const clusterToken = clusterTokenFor(target, backup.backupId);
  const cluster = { initialCluster: initialCluster(members), clusterToken };
  for (const [i, member] of members.entries()) {
    if (replaced[i]) logger.warn('etcd restore: replacing the data dir (--force)', { dataDir: member.dataDir });
    // The marker first: from here on, a retry of this restore, and a failed restore's cleanup, know the data dir is its own.
    await writeRestoreMarker(member.dataDir, dataDirRestore(ctx, member));
    await rm(member.dataDir, { recursive: true, force: true });
    logger.info('etcd restore: snapshot restore', { dataDir: member.dataDir, name: member.name, clusterToken, tool: tool.flavour });
    await snapshotRestore({ snapshotPath, name: member.name, dataDir: member.dataDir, peerUrl: member.peerUrl, ...cluster }, tool);
  }

  let running: RunningMember[] = [];
  if (target.start) {
    running = await startRestoredMembers(ctx, members, cluster);
    for (const m of running) logger.info('etcd restore: member started', { name: m.name, clientUrl: m.clientUrl, pid: m.pid, logFile: m.logFile });
  }
  for (const member of members) await markRestoreDone(member.dataDir, dataDirRestore(ctx, member));

  const described = members.map((member): JsonObject => {
    const live = running.find((r) => r.dataDir === member.dataDir);
    const itsProcess: JsonObject = live ? { pid: live.pid, logFile: live.logFile, pidFile: live.pidFile } : {};
    return { clientUrl: member.clientUrl, peerUrl: member.peerUrl, dataDir: member.dataDir, name: member.name, started: live !== undefined, ...itsProcess };
  });
  const endpoint: JsonObject = isClusterTarget(target)
    ? { clientUrl: members.map((m) => m.clientUrl).join(','), ...cluster, started: target.start, members: described }
    : { ...described[0], clusterToken };
  return { endpoint, bytes, durationMs: Date.now() - started };
}
