/**
 * The host-local restore, of a whole ensemble (or one standalone server) on this host:
 *
 * 1. every file is downloaded (sha256 re-checked) and the files are proven to hold what the backup
 *    recorded (headers, checksums, no gap, the tree's digest at the recorded zxid) before any
 *    member is touched;
 * 2. every member is stopped, its dataDir (and dataLogDir) replaced by the *same* snapshot and
 *    logs, its `acceptedEpoch`/`currentEpoch` set to the files' last epoch;
 * 3. every member is started at once (an ensemble member alone has no quorum).
 *
 * A member left out of the restore, still holding newer data, would win the election and undo it:
 * the target lists the whole ensemble, every member in it is replaced, and the `zoo.cfg` each
 * restored member starts with names exactly the target's members — no other server is a voter.
 */
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { downloadArtifacts } from '../../../core/driver/download';
import type { PreparedTarget, RestoreContext, RestoreResult, StoredArtifact, TransferOptions } from '../../../core/driver/types';
import { assertPortFree, replaceableEntries, type DataDirRestore } from '../../../core/host/data-dir-target';
import { markRestoreDone, writeRestoreMarker } from '../../../core/host/restore-marker';
import { processesUsing } from '../../../core/host/open-files';
import { PermanentError } from '../../../core/errors';
import { startTogether } from '../../../core/host/started-servers';
import type { HostLocalTarget, TargetMember } from '../config';
import { validateBackupFiles } from '../files/validate-files';
import { recordedEnd, zookeeperRecord } from '../records';
import { LOG_FOLDER, SNAPSHOT_FOLDER } from './backup';
import { VERSION_DIR } from './member-dirs';
import { memberDirsOf, memberStartOptions, restoreMembers } from './restored-members';
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
  for (const dir of memberDirsOf(member)) {
    const users = await processesUsing(dir);
    if (users.length > 0) {
      throw new PermanentError(
        `${users.map((u) => `pid ${u.pid} (${u.command})`).join(', ')} holds files under ${dir}: stop it before restoring there; a restore never replaces a directory under a running process`,
        { code: 'TARGET_IN_USE', engine: ENGINE },
      );
    }
  }
  for (const [field, port] of memberPorts(member)) {
    await assertPortFree(ENGINE, { host: member.host, port }, `member ${member.id} ${field} ${port}`, 'choose free ports for the restored members');
  }
}

/**
 * Refuses a member dir that holds anything (unless forced, or this restore's own), a server on it
 * this restore may not stop, a process using its files, and busy ports. Never destructive.
 */
export async function prepareHostLocal(ctx: RestoreContext<HostLocalTarget>): Promise<PreparedTarget> {
  const servers = restoreMembers(ctx);
  let replace = false;
  for (const member of ctx.target.members) {
    for (const dir of memberDirsOf(member)) {
      const { entries, own } = await replaceableEntries(dirRestore(ctx, dir));
      if (entries.length > 0 && !own) ctx.logger.warn('zookeeper restore: --force given, the non-empty dir will be moved aside', { dir, entries: entries.length });
      replace ||= entries.length > 0;
    }
    const recorded = await servers.stoppable(member.dataDir);
    // A recorded server this restore may stop holds the dirs and ports until the restore step stops it.
    if (recorded === undefined) await assertNothingElseRuns(member);
  }
  return { details: { replace, members: ctx.target.members.map((m) => `${m.id}@${m.host}:${m.clientPort}`) } };
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

/**
 * Downloads and proves the files, replaces every member's, starts them all. Idempotent: a retry
 * stops the servers it started and replaces the files again.
 */
export async function restoreHostLocal(ctx: RestoreContext<HostLocalTarget>, transfer: TransferOptions): Promise<RestoreResult> {
  const started = Date.now();
  const { backup, logger, target } = ctx;
  const { consistency, facts } = zookeeperRecord(backup);
  if (consistency.mode !== 'host-local') {
    throw new PermanentError(`backup ${backup.backupId} is a ${consistency.mode} backup: restore it to a logical target ({ "mode": "logical", "servers": [...] })`, { code: 'INVALID_TARGET', engine: ENGINE });
  }
  const { snapshot, logs } = hostLocalArtifacts(backup.artifacts);
  await mkdir(ctx.spoolDir, { recursive: true });
  logger.info('zookeeper restore: downloading', { snapshot: snapshot.name, logs: logs.length });
  const { files, bytes } = await downloadArtifacts([snapshot, ...logs], ctx.spoolDir, transfer);
  const local = { snapshot: files[snapshot.name], logs: logs.map((l) => files[l.name]) };
  const report = await validateBackupFiles({ ...local, expected: recordedEnd(consistency.zxid, facts) });
  if (!report.ok) {
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ');
    throw new PermanentError(`backup ${backup.backupId}'s files are not what it recorded (${failed}); no member was touched`, { code: 'BACKUP_CORRUPT', engine: ENGINE });
  }
  const servers = restoreMembers(ctx);
  for (const member of target.members) await servers.stop(member.dataDir);
  // Nothing may run on a member's dirs or ports now: not touched before this holds for every member.
  for (const member of target.members) await assertNothingElseRuns(member);
  const movedAside: string[] = [];
  for (const member of target.members) movedAside.push(...await placeFiles(ctx, member, local, consistency.epoch));
  logger.info('zookeeper restore: files placed; starting members', { members: target.members.length, zxid: consistency.zxid });
  const running = await startTogether(servers, target.members.map((member) => memberStartOptions(target, member)), (o) => o.dataDir);
  // The source's sessions came back with the files: close them, and their ephemeral nodes go.
  const sessions = report.facts?.ephemeralSessions ?? [];
  const closedSessions = await closeRestoredSessions(target.members.map((m) => `${m.host}:${m.clientPort}`).join(','), sessions, logger);
  for (const member of target.members) {
    for (const dir of memberDirsOf(member)) await markRestoreDone(dir, dirRestore(ctx, dir));
  }
  return {
    endpoint: {
      servers: target.members.map((m) => `${m.host}:${m.clientPort}`),
      pids: running.map((r) => r.pid),
      zxid: consistency.zxid,
      movedAside,
      closedSessions,
    },
    bytes,
    durationMs: Date.now() - started,
  };
}
