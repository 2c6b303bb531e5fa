/**
 * The host-local backup, on the chosen member's host: the newest valid snapshot and every log
 * needed to replay from it, copied while the server runs, straight into the store when the step
 * has one (else into the spool). Each file is read once (copy-files.ts): that read copies it,
 * hashes it, checks it and replays it. A log still being written is copied up to its last
 * complete, checksummed transaction, and that transaction's zxid is the backup's consistency
 * point: the restore replays the logs over the (fuzzy) snapshot up to it. The tree's node count
 * and digest are computed from the bytes written, so what is recorded is what the files hold.
 */
import path from 'node:path';
import { artifactSink, openArtifact, type ArtifactSink } from '../../../core/driver/artifact-sink';
import { verifiedRead } from '../../../core/driver/artifact-check';
import { resolveInside } from '../../../core/io/resolve-inside';
import type { ArtifactRef, BackupContext, SnapshotTaken } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import { serverStatus } from '../four-letter';
import { parseAddress, type ZooKeeperConfig } from '../config';
import { memberIndexOf } from '../choose-member';
import { zxidHex, type ZooKeeperFacts } from '../records';
import { logsDbid, misnamedLog } from '../files/log-checks';
import { Replay, type ReplayFacts } from '../files/replay';
import { listZooKeeperFiles, logsFrom } from '../files/select-files';
import type { TxnLogScan } from '../files/txn-log';
import { epochOf } from '../files/zxid';
import { adminSnapshot } from './admin-snapshot';
import { copyDataDirFiles, copyLog, LOG_FOLDER, SNAPSHOT_FOLDER } from './copy-files';
import { memberDirs, type MemberDirs } from './member-dirs';

export { LOG_FOLDER, SNAPSHOT_FOLDER };

type Member = ZooKeeperConfig['members'][number];

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

/** The artifacts a host-local record names ({@link hostLocalRecord} records them): its snapshot, then its logs. */
export function recordedFiles(facts: Pick<ZooKeeperFacts, 'snapshotFile' | 'logFiles'>): string[] {
  return [...(facts.snapshotFile === undefined ? [] : [facts.snapshotFile]), ...(facts.logFiles ?? [])];
}

/** The files a backup took: where they went, what their replay found, how the snapshot was had. */
interface TakenFiles {
  artifacts: ArtifactRef[];
  replay: Replay;
  logs: TxnLogScan[];
  source: 'admin-snapshot' | 'data-dir';
}

/** Warns of an older log that is copied only up to a damaged txn (the newest may end in one being written). */
function warnOfCutLogs(logs: readonly TxnLogScan[], logger: Logger): void {
  for (const log of logs) {
    if (log.stoppedAt && (log !== logs[logs.length - 1] || log.end === 'bad-checksum')) {
      logger.warn('zookeeper backup: a log is copied only up to its last whole transaction', { file: log.file, end: log.end, ...log.stoppedAt });
    }
  }
}

/** The newest whole snapshot file in the member's dataDir and the logs after it. */
async function copyFromDataDir(ctx: BackupContext<ZooKeeperConfig>, sink: ArtifactSink, member: Member, dirs: MemberDirs): Promise<TakenFiles> {
  ctx.logger.info('zookeeper backup: copying files', { member: member.address, snapshotDir: dirs.snapshotDir, logDir: dirs.logDir, to: sink.where });
  const copied = await copyDataDirFiles(sink, dirs);
  for (const skipped of copied.selected.skippedSnapshots) ctx.logger.warn('zookeeper backup: a newer snapshot is not whole; an older one is taken', skipped);
  return { artifacts: copied.artifacts, replay: copied.replay, logs: copied.selected.logs, source: 'data-dir' };
}

/**
 * A fresh snapshot from the member's AdminServer (ZooKeeper 3.9), spooled, then read back (its
 * sha256 checked on the way) into the replay; then the logs from its zxid on, copied as they are
 * replayed (the snapshot is fuzzy: the logs replay over it from its zxid). Undefined when the
 * server cannot give one, and why is logged.
 */
async function copyAfterAdminSnapshot(ctx: BackupContext<ZooKeeperConfig>, sink: ArtifactSink, member: Member, adminUrl: string, dirs: MemberDirs): Promise<TakenFiles | undefined> {
  const taken = await adminSnapshot({ adminUrl, auth: ctx.config.auth, spoolDir: ctx.spoolDir, folder: SNAPSHOT_FOLDER, signal: ctx.signal });
  if ('unsupported' in taken) {
    ctx.logger.warn('zookeeper backup: no snapshot from the AdminServer; the newest snapshot file is copied instead', { member: member.address, adminUrl, reason: taken.unsupported });
    return undefined;
  }
  const replay = new Replay();
  const file = resolveInside(ctx.spoolDir, taken.artifact.name);
  await replay.loadSnapshot(file, { chunks: verifiedRead(await openArtifact(ctx.spoolDir, taken.artifact, undefined), taken.artifact) });
  const { logs: allLogs } = await listZooKeeperFiles(dirs.logDir);
  const chosen = logsFrom(allLogs, taken.lastZxid);
  ctx.logger.info('zookeeper backup: snapshot streamed by the AdminServer; copying the logs after it', { member: member.address, snapshotZxid: zxidHex(taken.lastZxid), size: taken.artifact.size, logs: chosen.length, to: sink.where });
  const artifacts = [taken.artifact];
  const logs: TxnLogScan[] = [];
  for (const log of chosen) {
    const copied = await copyLog(sink, replay, log.file);
    artifacts.push(copied.artifact);
    logs.push(copied.scan);
  }
  return { artifacts, replay, logs, source: 'admin-snapshot' };
}

/** What the logs must say of each other (each starts at the zxid in its name, one dbid). @throws PermanentError `ZK_INCONSISTENT_FILES` */
function assertLogsAgree(logs: readonly TxnLogScan[], address: string): void {
  const dbid = logsDbid(logs);
  const problems = [...logs.map(misnamedLog).filter((problem) => problem !== undefined), ...(dbid.ok ? [] : [dbid.detail])];
  if (problems.length > 0) {
    throw new PermanentError(`the files copied from ZooKeeper at ${address} do not make a consistent backup: ${problems.join('; ')}`, { code: 'ZK_INCONSISTENT_FILES', engine: 'zookeeper' });
  }
}

/**
 * Copies the member's files (into the store when the step has one, else into the spool), proves
 * them as they are read, and records them. With `adminUrl`, the snapshot is a fresh one the
 * member's AdminServer streams (ZooKeeper 3.9's `snapshot` command; it goes to the spool); without
 * it, or when the server has no such command, the newest whole snapshot file of its dataDir.
 * @throws TransientError when the member does not answer, or its AdminServer rate-limits the
 *   snapshot (`ZK_ADMIN_RATE_LIMITED`); PermanentError `AUTH_FAILED` (the AdminServer refused the
 *   credential), `ZK_LOG_GAP`, `ZK_CORRUPT_SNAPSHOT`, `ZK_CORRUPT_LOG`, `ZK_INCONSISTENT_FILES`
 *   when the files on disk cannot make a consistent backup.
 */
export async function hostLocalSnapshot(ctx: BackupContext<ZooKeeperConfig>): Promise<SnapshotTaken> {
  const member = memberOfNode(ctx.config, ctx.node.name);
  const status = await serverStatus(parseAddress(member.address));
  const dirs = await memberDirs(member);
  const sink = artifactSink(ctx, true);
  // A retried snapshot starts clean: core emptied the spool; the store's prefix is this sink's to clear.
  if (ctx.destination) await sink.clear();
  const taken = (member.adminUrl ? await copyAfterAdminSnapshot(ctx, sink, member, member.adminUrl, dirs) : undefined) ?? await copyFromDataDir(ctx, sink, member, dirs);
  warnOfCutLogs(taken.logs, ctx.logger);
  assertLogsAgree(taken.logs, member.address);
  const facts = await taken.replay.facts();
  // The member logs a transaction before it applies it: its files reach at least the zxid it
  // served before the copy. Files that end earlier are not this member's (another server's dir
  // at the same path, a stale copy).
  if (facts.lastZxid < status.zxid) {
    throw new PermanentError(
      `the files in ${dirs.snapshotDir} end at zxid ${zxidHex(facts.lastZxid)}, before the ${zxidHex(status.zxid)} ZooKeeper at ${member.address} had applied: they are not that member's (check members[].dataDir and that the step runs on its host)`,
      { code: 'ZK_FILES_NOT_THE_MEMBERS', engine: 'zookeeper' },
    );
  }
  ctx.logger.info('zookeeper backup: files copied', { zxid: zxidHex(facts.lastZxid), nodes: facts.summary.nodeCount, snapshot: taken.source });
  const [snapshot, ...logs] = taken.artifacts;
  const record = hostLocalRecord(facts, { member: member.address, serverVersion: status.version, role: status.mode }, { snapshot: snapshot.name, logs: logs.map((log) => log.name) });
  return { artifacts: taken.artifacts, ...record, facts: { ...record.facts, snapshotSource: taken.source } };
}
