/**
 * The host-local backup, on the chosen member's host: the newest valid snapshot and every log
 * needed to replay from it, copied while the server runs. A log still being written is copied up
 * to its last complete, checksummed transaction, and that transaction's zxid is the backup's
 * consistency point: the restore replays the logs over the (fuzzy) snapshot up to it. The tree's
 * node count and digest are computed from the copied files themselves (snapshot read, logs
 * replayed), so what is recorded is what the files hold.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { writeArtifact } from '../../../core/driver/spool';
import { resolveInside } from '../../../core/io/resolve-inside';
import type { ArtifactRef, BackupContext, SnapshotTaken } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import { serverStatus } from '../four-letter';
import { parseAddress, type ZooKeeperConfig } from '../config';
import { memberIndexOf } from '../choose-member';
import { zxidHex } from '../records';
import { selectFiles } from '../files/select-files';
import type { ReplayFacts } from '../files/replay';
import { validateBackupFiles } from '../files/validate-files';
import { epochOf } from '../files/zxid';
import { memberDirs } from './member-dirs';

/** Artifact folders: snapshots go back to dataDir, logs to dataLogDir. */
export const SNAPSHOT_FOLDER = 'snapshot';
export const LOG_FOLDER = 'txnlog';

/** The config's member a node is. @throws PermanentError `INVALID_NODE` */
export function memberOfNode(config: ZooKeeperConfig, nodeName: string): ZooKeeperConfig['members'][number] {
  const index = memberIndexOf(nodeName, config);
  if (index === undefined) {
    throw new PermanentError(`node ${nodeName} is not a member of this ZooKeeper config (${config.members.length} members)`, { code: 'INVALID_NODE', engine: 'zookeeper' });
  }
  return config.members[index];
}

/** The spooled files of a host-local snapshot, by their artifact names. */
export function spooledFiles(spoolDir: string, artifacts: readonly ArtifactRef[]): { snapshot: string; logs: string[] } {
  const base = (a: ArtifactRef) => path.posix.basename(a.name);
  const snapshots = artifacts.filter((a) => a.name.startsWith(`${SNAPSHOT_FOLDER}/`));
  if (snapshots.length !== 1) {
    throw new PermanentError(`a host-local ZooKeeper backup holds exactly one snapshot, this one ${snapshots.length}`, { code: 'ARTIFACT_MISSING', engine: 'zookeeper' });
  }
  const logs = artifacts.filter((a) => a.name.startsWith(`${LOG_FOLDER}/`)).sort((a, b) => (zxidOfName(base(a)) < zxidOfName(base(b)) ? -1 : 1));
  return { snapshot: resolveInside(spoolDir, snapshots[0].name), logs: logs.map((a) => resolveInside(spoolDir, a.name)) };
}

function zxidOfName(name: string): bigint {
  return BigInt(`0x${name.slice(name.indexOf('.') + 1)}`);
}

/** The record of the files, as the manifest keeps it. */
export function hostLocalRecord(facts: ReplayFacts, source: { member: string; serverVersion: string; role: string }, names: { snapshot: string; logs: string[] }): Pick<SnapshotTaken, 'consistency' | 'facts'> {
  return {
    consistency: {
      mode: 'host-local',
      zxid: zxidHex(facts.lastZxid),
      snapshotZxid: zxidHex(facts.snapshotZxid),
      epoch: epochOf(facts.lastZxid),
      epochs: facts.epochs,
      ...source,
    },
    facts: {
      nodeCount: facts.summary.nodeCount,
      treeDigest: facts.summary.digest,
      snapshotFile: names.snapshot,
      logFiles: names.logs,
      replayedTxns: facts.txnsApplied,
    },
  };
}

/**
 * Copies the member's files into the spool and records them.
 * @throws TransientError when the member does not answer; PermanentError `ZK_LOG_GAP`,
 *   `ZK_CORRUPT_SNAPSHOT`, `ZK_CORRUPT_LOG` when the files on disk cannot make a consistent backup.
 */
export async function hostLocalSnapshot(ctx: BackupContext<ZooKeeperConfig>): Promise<SnapshotTaken> {
  const member = memberOfNode(ctx.config, ctx.node.name);
  const status = await serverStatus(parseAddress(member.address));
  const dirs = await memberDirs(member);
  const chosen = await selectFiles({ snapDir: dirs.snapshotDir, logDir: dirs.logDir, mode: 'live' });
  for (const skipped of chosen.skippedSnapshots) ctx.logger.warn('zookeeper backup: a newer snapshot is not whole; an older one is taken', skipped);
  ctx.logger.info('zookeeper backup: copying files', { member: member.address, snapshot: chosen.snapshot.file, logs: chosen.logs.length });
  const artifacts: ArtifactRef[] = [];
  const snapshotName = `${SNAPSHOT_FOLDER}/${path.basename(chosen.snapshot.file)}`;
  artifacts.push(await writeArtifact(ctx.spoolDir, snapshotName, createReadStream(chosen.snapshot.file)));
  const logNames: string[] = [];
  for (const log of chosen.logs) {
    // Up to the last complete, checksummed transaction the selection read: the server may be
    // writing the newest log right now, and every log is padded with zeros past its end.
    const name = `${LOG_FOLDER}/${path.basename(log.file)}`;
    logNames.push(name);
    artifacts.push(await writeArtifact(ctx.spoolDir, name, createReadStream(log.file, { start: 0, end: log.validLength - 1 })));
  }
  const report = await validateBackupFiles(spooledFiles(ctx.spoolDir, artifacts));
  if (!report.ok || !report.facts) {
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; ');
    throw new PermanentError(`the files copied from ZooKeeper at ${member.address} do not make a consistent backup: ${failed}`, { code: 'ZK_INCONSISTENT_FILES', engine: 'zookeeper' });
  }
  ctx.logger.info('zookeeper backup: files copied', { zxid: zxidHex(report.facts.lastZxid), nodes: report.facts.summary.nodeCount });
  return {
    artifacts,
    ...hostLocalRecord(report.facts, { member: member.address, serverVersion: status.version, role: status.mode }, { snapshot: snapshotName, logs: logNames }),
  };
}
