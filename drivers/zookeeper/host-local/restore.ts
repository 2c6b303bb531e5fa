/**
 * The host-local restore of a whole ensemble (or one standalone server), its members on one host
 * or on several (each node of the restore is one host, with the members whose `host` it is):
 *
 * 1. stage, on every node: the files are downloaded (sha256 re-checked) and proven to hold what
 *    the backup recorded (headers, checksums, no gap, the tree's digest at the recorded zxid);
 * 2. restore, on every node once every node has staged: its members are stopped, their dataDir
 *    (and dataLogDir) replaced by the *same* snapshot and logs, `acceptedEpoch`/`currentEpoch` set
 *    to the files' last epoch;
 * 3. start, on every node at once once every node has restored: its members start (an ensemble
 *    member alone has no quorum), and the first node closes the sessions the snapshot brought back.
 *
 * A member left out of the restore, still holding newer data, would win the election and undo it:
 * the target lists the whole ensemble, every member in it is replaced, no member starts before
 * every member is stopped and replaced (core runs each step on every node before the next), and
 * the `zoo.cfg` each restored member starts with names exactly the target's members — no other
 * server is a voter.
 */
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { downloadArtifacts } from '../../../core/driver/download';
import { nodesByHost } from '../../../core/driver/node-ref';
import type { PreparedTarget, RestoreContext, RestoreResult, StagedFiles, StoredArtifact, TransferOptions } from '../../../core/driver/types';
import { assertPortFree, replaceableEntries, type DataDirRestore } from '../../../core/host/data-dir-target';
import { markRestoreDone, writeRestoreMarker } from '../../../core/host/restore-marker';
import { assertNoProcessUses } from '../../../core/host/open-files';
import { PermanentError } from '../../../core/errors';
import { startTogether } from '../../../core/host/started-servers';
import type { HostLocalTarget, TargetMember } from '../config';
import { validateBackupFiles } from '../files/validate-files';
import { recordedEnd, zookeeperRecord } from '../records';
import { LOG_FOLDER, SNAPSHOT_FOLDER } from './backup';
import { VERSION_DIR } from './member-dirs';
import { clientAddress, memberDirsOf, memberStartOptions, membersHere, restoreMembers } from './restored-members';
import { closeRestoredSessions } from './restored-sessions';

const ENGINE = 'zookeeper';

function dirRestore(ctx: RestoreContext<HostLocalTarget>, dir: string): DataDirRestore {
  return { engine: ENGINE, dataDir: dir, backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir, force: ctx.force };
}

/** The backup's snapshot and logs (names may carry the node's prefix). */
export function hostLocalArtifacts(artifacts: readonly StoredArtifact[]): { snapshot: StoredArtifact; logs: StoredArtifact[] } {
  const inFolder = (folder: string) => artifacts.filter((a) => new RegExp(`(^|/)${folder}/[^/]+$`).test(a.name));
  const snapshots = inFolder(SNAPSHOT_FOLDER);
  if (snapshots.length !== 1) {
    throw new PermanentError(`a host-local ZooKeeper backup holds exactly one snapshot; this one holds ${snapshots.length} (artifacts: ${artifacts.map((a) => a.name).join(', ') || 'none'})`, { code: 'ARTIFACT_MISSING', engine: ENGINE });
  }
  return { snapshot: snapshots[0], logs: inFolder(LOG_FOLDER) };
}

/** The member's ports, named as the target names them. */
function memberPorts(member: TargetMember): Array<[string, number]> {
  const ports: Array<[string, number | undefined]> = [['clientPort', member.clientPort], ['quorumPort', member.quorumPort], ['electionPort', member.electionPort]];
  return ports.filter((entry): entry is [string, number] => entry[1] !== undefined);
}

/**
 * Refuses a member where something still runs once the servers this restore may stop are stopped:
 * a process holding files under its dirs (one started by hand or by systemd has no record) or
 * anything listening on its ports.
 */
async function assertNothingElseRuns(member: TargetMember): Promise<void> {
  for (const dir of memberDirsOf(member)) await assertNoProcessUses(dir, ENGINE);
  for (const [field, port] of memberPorts(member)) {
    await assertPortFree(ENGINE, { host: member.hostname, port }, `member ${member.id} ${field} ${port}`, 'choose free ports for the restored members');
  }
}

/**
 * Refuses a member dir that holds anything (unless forced, or this restore's own), a server on it
 * this restore may not stop, a process using its files, and busy ports. Never destructive.
 */
export async function prepareHostLocal(ctx: RestoreContext<HostLocalTarget>): Promise<PreparedTarget> {
  const servers = restoreMembers(ctx);
  let replace = false;
  const members = membersHere(ctx);
  for (const member of members) {
    for (const dir of memberDirsOf(member)) {
      const { entries, own } = await replaceableEntries(dirRestore(ctx, dir));
      if (entries.length > 0 && !own) ctx.logger.warn('zookeeper restore: --force given, the non-empty dir will be moved aside', { dir, entries: entries.length });
      replace ||= entries.length > 0;
    }
    const recorded = await servers.stoppable(member.dataDir);
    // A recorded server this restore may stop holds the dirs and ports until the restore step stops it.
    if (recorded === undefined) await assertNothingElseRuns(member);
  }
  return { details: { replace, members: members.map((m) => `${m.id}@${clientAddress(m)}`) } };
}

/** Where a forced restore moves a member dir's previous contents: beside it, named after the restore. */
function asideName(ctx: RestoreContext<HostLocalTarget>, dir: string): string {
  return `${dir}.before-${ctx.restoreId.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}

/**
 * Replaces one member's files with the backup's (the marker first, so a retry and the cleanup know
 * them as this restore's). Previous contents that were not this restore's own are moved aside, not
 * deleted: a wrong target can still be put back. Returns the dirs moved aside.
 */
async function placeFiles(ctx: RestoreContext<HostLocalTarget>, member: TargetMember, files: { snapshot: string; logs: string[] }, epoch: number): Promise<string[]> {
  const dirs = memberDirsOf(member);
  const movedAside: string[] = [];
  for (const dir of dirs) {
    const { entries, own } = await replaceableEntries(dirRestore(ctx, dir), true);
    await mkdir(path.dirname(dir), { recursive: true });
    if (entries.length > 0 && !own) {
      const aside = asideName(ctx, dir);
      await rename(dir, aside);
      ctx.logger.warn('zookeeper restore: previous contents moved aside', { dir, aside });
      movedAside.push(aside);
    }
    await writeRestoreMarker(dir, dirRestore(ctx, dir));
    await rm(dir, { recursive: true, force: true });
  }
  const snapshotDir = path.join(dirs[0], VERSION_DIR);
  const logDir = path.join(dirs[dirs.length - 1], VERSION_DIR);
  await mkdir(snapshotDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  await copyFile(files.snapshot, path.join(snapshotDir, path.basename(files.snapshot)));
  for (const log of files.logs) await copyFile(log, path.join(logDir, path.basename(log)));
  // A member compares these with its peers' at election: the same on every member, the files' epoch.
  for (const name of ['acceptedEpoch', 'currentEpoch']) await writeFile(path.join(snapshotDir, name), `${epoch}`);
  return movedAside;
}

/** What stage proved, kept in the node's spool for its restore and start steps. */
const STAGED_FILE = 'staged.json';

interface Staged {
  /** The source's sessions the snapshot and logs bring back (decimal ids): start closes them. */
  sessions: string[];
}

/** The backup's files in the node's spool: downloaded, or kept from an earlier attempt when they hash as recorded. */
async function spooledBackupFiles(ctx: RestoreContext<HostLocalTarget>, transfer: TransferOptions) {
  const { snapshot, logs } = hostLocalArtifacts(ctx.backup.artifacts);
  await mkdir(ctx.spoolDir, { recursive: true });
  const { files, bytes } = await downloadArtifacts([snapshot, ...logs], ctx.spoolDir, transfer);
  return { local: { snapshot: files[snapshot.name], logs: logs.map((l) => files[l.name]) }, bytes };
}

/** Refuses a host-local target for a logical backup. */
function hostLocalRecord(ctx: RestoreContext<HostLocalTarget>) {
  const { consistency, facts } = zookeeperRecord(ctx.backup);
  if (consistency.mode !== 'host-local') {
    throw new PermanentError(`backup ${ctx.backup.backupId} is a ${consistency.mode} backup: restore it to a logical target ({ "mode": "logical", "servers": [...] })`, { code: 'INVALID_TARGET', engine: ENGINE });
  }
  return { consistency, facts };
}

/**
 * Stage, on every node: downloads the files and proves they hold what the backup recorded, before
 * any member anywhere is touched.
 */
export async function stageHostLocal(ctx: RestoreContext<HostLocalTarget>, transfer: TransferOptions): Promise<StagedFiles> {
  const { consistency, facts } = hostLocalRecord(ctx);
  ctx.logger.info('zookeeper restore: downloading', { node: ctx.node.name, artifacts: ctx.backup.artifacts.length });
  const { local, bytes } = await spooledBackupFiles(ctx, transfer);
  const report = await validateBackupFiles({ ...local, expected: recordedEnd(consistency.zxid, facts) });
  if (!report.ok) {
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ');
    throw new PermanentError(`backup ${ctx.backup.backupId}'s files are not what it recorded (${failed}); no member was touched`, { code: 'BACKUP_CORRUPT', engine: ENGINE });
  }
  const staged: Staged = { sessions: (report.facts?.ephemeralSessions ?? []).map(String) };
  await writeFile(path.join(ctx.spoolDir, STAGED_FILE), JSON.stringify(staged));
  return { bytes };
}

/** What stage proved on this node (the files are re-hashed by the caller's download). */
async function readStaged(ctx: RestoreContext<HostLocalTarget>): Promise<Staged> {
  const text = await readFile(path.join(ctx.spoolDir, STAGED_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) throw new PermanentError(`node ${ctx.node.name} has not staged backup ${ctx.backup.backupId} (run the stage step first)`, { code: 'STEP_ORDER', engine: ENGINE });
  return JSON.parse(text) as Staged;
}

/**
 * Restore, on every node once every node has staged: stops this node's members and replaces their
 * files with the staged ones (re-hashed: the spool holds what stage proved). Starts nothing.
 * Idempotent: a retry stops what it started and replaces the files again.
 */
export async function restoreHostLocal(ctx: RestoreContext<HostLocalTarget>, transfer: TransferOptions): Promise<RestoreResult> {
  const started = Date.now();
  const { consistency } = hostLocalRecord(ctx);
  const staged = await readStaged(ctx);
  const { local, bytes } = await spooledBackupFiles(ctx, transfer);
  const members = membersHere(ctx);
  const servers = restoreMembers(ctx);
  for (const member of members) await servers.stop(member.dataDir);
  // Nothing may run on a member's dirs or ports now: not touched before this holds for every member.
  for (const member of members) await assertNothingElseRuns(member);
  const movedAside: string[] = [];
  for (const member of members) movedAside.push(...await placeFiles(ctx, member, local, consistency.epoch));
  ctx.logger.info('zookeeper restore: files placed', { node: ctx.node.name, members: members.length, zxid: consistency.zxid });
  return {
    endpoint: { servers: members.map(clientAddress), zxid: consistency.zxid, movedAside, sessions: staged.sessions },
    bytes,
    durationMs: Date.now() - started,
  };
}

/**
 * Start, on every node at once once every node has restored: starts this node's members (they wait
 * for the others' votes) and, on the first node, closes the sessions the files brought back (their
 * ephemeral nodes go with them). Idempotent: a retry finds the servers it started.
 */
export async function startHostLocal(ctx: RestoreContext<HostLocalTarget>, result: RestoreResult): Promise<RestoreResult> {
  const { target, logger } = ctx;
  const members = membersHere(ctx);
  const running = await startTogether(restoreMembers(ctx), members.map((member) => memberStartOptions(target, member)), (o) => o.dataDir);
  const sessions = (Array.isArray(result.endpoint.sessions) ? result.endpoint.sessions : []).map((id) => BigInt(String(id)));
  const first = nodesByHost(target.members)[0].name === ctx.node.name;
  const closedSessions = first ? await closeRestoredSessions(target.members.map(clientAddress).join(','), sessions, logger) : 0;
  for (const member of members) {
    for (const dir of memberDirsOf(member)) await markRestoreDone(dir, dirRestore(ctx, dir));
  }
  const { sessions: _sessions, ...endpoint } = result.endpoint;
  return { ...result, endpoint: { ...endpoint, pids: running.map((r) => r.pid), closedSessions } };
}
