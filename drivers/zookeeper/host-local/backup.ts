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
import type { Logger } from '../../../core/logger';
import { serverStatus } from '../four-letter';
import { parseAddress, type ZooKeeperConfig } from '../config';
import { memberIndexOf } from '../choose-member';
import { zxidHex } from '../records';
import { checkContinuity, listZooKeeperFiles, logsFrom, selectFiles } from '../files/select-files';
import { readTxnLog, type TxnLogScan } from '../files/txn-log';
import type { ReplayFacts } from '../files/replay';
import { validateBackupFiles } from '../files/validate-files';
import { epochOf } from '../files/zxid';
import { adminSnapshot } from './admin-snapshot';
import { memberDirs, type MemberDirs } from './member-dirs';

type Member = ZooKeeperConfig['members'][number];

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

/** The snapshot and logs a backup spools, and how the snapshot was had. */
interface SpooledSelection {
  artifacts: ArtifactRef[];
  snapshotName: string;
  logNames: string[];
  source: 'admin-snapshot' | 'data-dir';
}

/**
 * Copies each log up to the last complete, checksummed transaction the reader found: the server
 * may be writing the newest log right now, and every log is padded with zeros past its end.
 */
async function spoolLogs(spoolDir: string, logs: readonly TxnLogScan[], logger: Logger): Promise<{ artifacts: ArtifactRef[]; names: string[] }> {
  const artifacts: ArtifactRef[] = [];
  const names: string[] = [];
  for (const log of logs) {
    // The newest log may end in a transaction being written; an older one, or a bad checksum, should not.
    if (log.stoppedAt && (log !== logs[logs.length - 1] || log.end === 'bad-checksum')) {
      logger.warn('zookeeper backup: a log is copied only up to its last whole transaction', { file: log.file, end: log.end, ...log.stoppedAt });
    }
    const name = `${LOG_FOLDER}/${path.basename(log.file)}`;
    names.push(name);
    artifacts.push(await writeArtifact(spoolDir, name, createReadStream(log.file, { start: 0, end: log.validLength - 1 })));
  }
  return { artifacts, names };
}

/** The newest whole snapshot file in the member's dataDir and the logs after it. */
async function spoolFromDataDir(ctx: BackupContext<ZooKeeperConfig>, member: Member, dirs: MemberDirs): Promise<SpooledSelection> {
  const chosen = await selectFiles({ snapDir: dirs.snapshotDir, logDir: dirs.logDir, mode: 'live' });
  for (const skipped of chosen.skippedSnapshots) ctx.logger.warn('zookeeper backup: a newer snapshot is not whole; an older one is taken', skipped);
  ctx.logger.info('zookeeper backup: copying files', { member: member.address, snapshot: chosen.snapshot.file, logs: chosen.logs.length });
  const snapshotName = `${SNAPSHOT_FOLDER}/${path.basename(chosen.snapshot.file)}`;
  const snapshot = await writeArtifact(ctx.spoolDir, snapshotName, createReadStream(chosen.snapshot.file));
  const logs = await spoolLogs(ctx.spoolDir, chosen.logs, ctx.logger);
  return { artifacts: [snapshot, ...logs.artifacts], snapshotName, logNames: logs.names, source: 'data-dir' };
}

/**
 * A fresh snapshot from the member's AdminServer (ZooKeeper 3.9), then the logs from its zxid on
 * (the snapshot is fuzzy: the logs replay over it from its zxid); undefined when the server cannot
 * give one, and why is logged.
 */
async function spoolFromAdmin(ctx: BackupContext<ZooKeeperConfig>, member: Member, adminUrl: string, dirs: MemberDirs): Promise<SpooledSelection | undefined> {
  const taken = await adminSnapshot({ adminUrl, auth: ctx.config.auth, spoolDir: ctx.spoolDir, folder: SNAPSHOT_FOLDER, signal: ctx.signal });
  if ('unsupported' in taken) {
    ctx.logger.warn('zookeeper backup: no snapshot from the AdminServer; the newest snapshot file is copied instead', { member: member.address, adminUrl, reason: taken.unsupported });
    return undefined;
  }
  const { logs: allLogs } = await listZooKeeperFiles(dirs.logDir);
  const logs: TxnLogScan[] = [];
  for (const log of logsFrom(allLogs, taken.lastZxid)) logs.push(await readTxnLog(log.file, { mode: 'live' }));
  checkContinuity(taken.lastZxid, logs);
  ctx.logger.info('zookeeper backup: snapshot streamed by the AdminServer; copying the logs after it', { member: member.address, snapshotZxid: zxidHex(taken.lastZxid), size: taken.artifact.size, logs: logs.length });
  const spooled = await spoolLogs(ctx.spoolDir, logs, ctx.logger);
  return { artifacts: [taken.artifact, ...spooled.artifacts], snapshotName: taken.artifact.name, logNames: spooled.names, source: 'admin-snapshot' };
}

/**
 * Copies the member's files into the spool and records them. With `adminUrl`, the snapshot is a
 * fresh one the member's AdminServer streams (ZooKeeper 3.9's `snapshot` command); without it, or
 * when the server has no such command, the newest whole snapshot file of its dataDir.
 * @throws TransientError when the member does not answer, or its AdminServer rate-limits the
 *   snapshot (`ZK_ADMIN_RATE_LIMITED`); PermanentError `AUTH_FAILED` (the AdminServer refused the
 *   credential), `ZK_LOG_GAP`, `ZK_CORRUPT_SNAPSHOT`, `ZK_CORRUPT_LOG` when the files on disk
 *   cannot make a consistent backup.
 */
export async function hostLocalSnapshot(ctx: BackupContext<ZooKeeperConfig>): Promise<SnapshotTaken> {
  const member = memberOfNode(ctx.config, ctx.node.name);
  const status = await serverStatus(parseAddress(member.address));
  const dirs = await memberDirs(member);
  const spooled = (member.adminUrl ? await spoolFromAdmin(ctx, member, member.adminUrl, dirs) : undefined) ?? await spoolFromDataDir(ctx, member, dirs);
  const { artifacts, snapshotName, logNames } = spooled;
  const report = await validateBackupFiles(spooledFiles(ctx.spoolDir, artifacts));
  if (!report.ok || !report.facts) {
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; ');
    throw new PermanentError(`the files copied from ZooKeeper at ${member.address} do not make a consistent backup: ${failed}`, { code: 'ZK_INCONSISTENT_FILES', engine: 'zookeeper' });
  }
  // The member logs a transaction before it applies it: its files reach at least the zxid it
  // served before the copy. Files that end earlier are not this member's (another server's dir
  // at the same path, a stale copy).
  if (report.facts.lastZxid < status.zxid) {
    throw new PermanentError(
      `the files in ${dirs.snapshotDir} end at zxid ${zxidHex(report.facts.lastZxid)}, before the ${zxidHex(status.zxid)} ZooKeeper at ${member.address} had applied: they are not that member's (check members[].dataDir and that the step runs on its host)`,
      { code: 'ZK_FILES_NOT_THE_MEMBERS', engine: 'zookeeper' },
    );
  }
  ctx.logger.info('zookeeper backup: files copied', { zxid: zxidHex(report.facts.lastZxid), nodes: report.facts.summary.nodeCount, snapshot: spooled.source });
  const record = hostLocalRecord(report.facts, { member: member.address, serverVersion: status.version, role: status.mode }, { snapshot: snapshotName, logs: logNames });
  return { artifacts, ...record, facts: { ...record.facts, snapshotSource: spooled.source } };
}
