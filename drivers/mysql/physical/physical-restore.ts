/**
 * Physical restores: a mariabackup/xtrabackup stream becomes a new server's data directory on
 * this host.
 *
 * `preparePhysicalTarget` only looks: it refuses a non-empty data dir (unless `force`), a port
 * taken by another server, a host without the tools or the disk space. `restorePhysical` streams the
 * artifact from the store straight into the extractor (sha256 computed on the way, no downloaded
 * copy), into a staging directory next to the data dir (same file system, so placing it is a
 * rename), runs `--prepare`, and only then — the backup downloaded, verified and prepared — replaces
 * the data dir's contents. It starts the server on the target port (pid file, socket, error log
 * and a private tmpdir next to the data dir) and sets its GTID state to the backup's (`gtid_slave_pos`, MariaDB), so it
 * can replicate from the source, and answers with where the server is.
 *
 * The restored server is a copy of the source's `mysql` schema: its root login is the source's, so
 * the target's `user`/`password` must be the source's credentials.
 *
 * Before it touches the data dir the restore writes a marker next to it (`<datadir>.restore.json`,
 * naming this restore's spool: core/host/restore-marker.ts), marked `done` once the whole restore
 * (a point-in-time replay included) has finished. A retry recognises a half-written data dir as its
 * own and replaces it without `--force`; a failed restore's cleanup (restore-cleanup.ts) tells a
 * half-written data dir from a finished one and from one it never touched.
 */
import { openStored } from '../../../core/driver/artifact-check';
import { access, constants, mkdir, readdir, rename, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import type { JsonObject, PreparedTarget, RestoreContext, RestoreResult, TransferOptions } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import { assertPortFree, replaceableEntries, type DataDirRestore } from '../../../core/host/data-dir-target';
import { markRestoreDone, ownRestoreMarker, writeRestoreMarker, type RestoreMarker } from '../../../core/host/restore-marker';
import { selectArtifacts } from '../shared/artifact-select';
import { toolOutput } from '../../../core/host/run-tool';
import { checkToolVersion } from './backup-tool';
import type { MysqlRestoreTarget } from '../config';
import { connectionOptions } from '../shared/connection';
import { toMysqlError } from '../shared/errors';
import { ENGINE, PHYSICAL_ARTIFACT, recordedConsistency, type MysqlConsistency } from '../shared/layout';
import { serverPaths } from '../shared/local-server';
import { restoreServersOf, setGtidSlavePos } from '../shared/restored-server';
import { toolFor } from './physical-backup';
import { makePreparedCopy } from './prepared-copy';
import { MYSQL_TOOLS } from '../shared/tool-errors';

type Ctx = RestoreContext<MysqlRestoreTarget>;

/** Files of the backup tool that are not part of a data dir. */
const TOOL_FILES = /^(backup-my\.cnf|xtrabackup_.*|mariadb_backup_.*)$/;

/** The data dir restore `ctx` describes (core/host/data-dir-target.ts). */
function dataDirRestore(ctx: Ctx, datadir: string): DataDirRestore {
  return { engine: ENGINE, dataDir: datadir, backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir, force: ctx.force };
}

/** Where the backup is extracted and prepared before it replaces the data dir. */
export const stagingDir = (datadir: string): string => `${datadir}.restore-staging`;

/**
 * Checks a physical restore can go ahead, without changing anything: a data dir is given, empty
 * (or `force`, or left half-written by an earlier attempt of this same restore), the port is free
 * (or held by the server of that data dir, which the restore stops only when it started it or the
 * target says `physical.stopRunningServer`), the tools match the backup,
 * and the file system has room for the extracted backup.
 * @throws PermanentError `TARGET_NOT_EMPTY`, `INVALID_TARGET`, `TARGET_PORT_IN_USE`, `SERVER_NOT_STARTED_BY_RESTORE`, `MISSING_TOOL`,
 *   `TOOL_VERSION_MISMATCH`, `DISK_FULL`.
 */
export async function preparePhysicalTarget(ctx: Ctx): Promise<PreparedTarget> {
  const { target } = ctx;
  if (!target.physical) {
    throw invalid('a physical backup restores into a new data directory on this host: give target.physical.datadir (and the port to start it on)');
  }
  if (Object.keys(target.renameDatabases).length > 0) throw invalid('renameDatabases does not apply to a physical restore (the whole server is copied)');
  if (target.pointInTime && !target.physical.start) throw invalid('point-in-time replay needs the restored server running: leave physical.start on');
  const datadir = path.resolve(target.physical.datadir);
  const paths = serverPaths(datadir);
  if (target.socketPath && path.resolve(target.socketPath) !== paths.socket) {
    throw invalid(`the restored server's socket will be ${paths.socket}; leave target.socketPath unset or set it to that`);
  }
  if (!target.socketPath && !['127.0.0.1', 'localhost', '::1'].includes(target.host)) {
    throw invalid(`the restored server listens on 127.0.0.1 only; leave target.host at 127.0.0.1 (it is ${target.host})`);
  }

  const consistency = recordedConsistency(ctx.backup);
  const tool = toolFor(consistency);
  checkToolVersion(tool, await toolOutput(tool.command, ['--version'], { errors: MYSQL_TOOLS }), consistency.serverVersion);

  const { entries } = await replaceableEntries(dataDirRestore(ctx, datadir));
  // The data dir's own server may hold the port (the restore stops it, when it may); a stale pid file names none.
  const running = await restoreServersOf(ctx).stoppable(datadir);
  if (target.physical.start && running === undefined) {
    await assertPortFree(ENGINE, { host: '127.0.0.1', port: target.port }, `port ${target.port} on 127.0.0.1`, 'choose another target port');
  }

  const parent = path.dirname(datadir);
  await mkdir(parent, { recursive: true });
  await access(parent, constants.W_OK).catch(() => { throw invalid(`cannot write to ${parent}`); });
  const artifact = selectArtifacts(ctx.backup.artifacts, [PHYSICAL_ARTIFACT])[0];
  const space = await statfs(parent);
  const free = Number(space.bavail) * Number(space.bsize);
  if (free < artifact.size) {
    throw new PermanentError(`${parent} has ${free} bytes free; the backup needs at least ${artifact.size}`, { code: 'DISK_FULL', engine: ENGINE });
  }
  return {
    details: {
      mode: 'physical',
      datadir,
      port: target.port,
      start: target.physical.start,
      replaces: entries.length > 0,
      runningPid: running ?? null,
      tool: tool.kind,
    },
  };
}

/**
 * Restores a physical backup into the prepared data dir (see the module comment) and, with
 * `physical.start`, starts the server and sets its GTID state.
 * @returns endpoint `{ host, port, user, datadir, socket, pidFile, errorLog, started, binlogFile,
 *   binlogPosition, gtid, serverId, objects }` — no password; `objects` lists the views, triggers,
 *   routines and events per database that the backup's facts recorded, for validation.
 * @throws PermanentError `CHECKSUM_MISMATCH` / `SNAPSHOT_CORRUPT` (the data dir is left untouched),
 *   `TARGET_NOT_EMPTY`, `MYSQL_START_FAILED`; the tools' errors as {@link makePreparedCopy} reports them.
 */
export async function restorePhysical(ctx: Ctx, prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
  const started = Date.now();
  const physical = ctx.target.physical;
  if (!physical || prepared.details.mode !== 'physical') {
    throw new PermanentError('restore target not prepared for a physical restore (run the prepare step first)', { code: 'STEP_ORDER', engine: ENGINE });
  }
  const datadir = path.resolve(physical.datadir);
  const paths = serverPaths(datadir);
  const consistency = recordedConsistency(ctx.backup);
  const tool = toolFor(consistency);
  const artifact = selectArtifacts(ctx.backup.artifacts, [PHYSICAL_ARTIFACT])[0];
  const staging = stagingDir(datadir);

  // 1. Stream, verify and prepare the backup in a staging dir; the data dir is not touched yet.
  const copy = await makePreparedCopy({
    tool,
    artifact,
    open: () => openStored(transfer.store, artifact, transfer.openKey, {
      rateLimit: transfer.rateLimit,
      onProgress: (done) => transfer.onProgress?.(done, artifact.size),
    }),
    dir: staging,
    parallel: 2,
    purpose: `restoring ${artifact.name} into ${datadir}`,
    signal: ctx.signal,
  });
  ctx.logger.info('mysql physical restore: extracted, verified and prepared', { bytes: artifact.size, ...copy });

  // 2. Replace the data dir's contents (stopping its server first), marked as this restore's.
  const dropStaging = async (error: unknown): Promise<never> => {
    await rm(staging, { recursive: true, force: true });
    throw error;
  };
  const { entries } = await replaceableEntries(dataDirRestore(ctx, datadir), true).catch(dropStaging);
  await restoreServersOf(ctx).stoppable(datadir).catch(dropStaging);
  await writeRestoreMarker(datadir, dataDirRestore(ctx, datadir));
  await restoreServersOf(ctx).stop(datadir);
  await mkdir(datadir, { recursive: true });
  for (const entry of entries) await rm(path.join(datadir, entry), { recursive: true, force: true });
  // The old server's binary logs would continue under the restored server with a wrong history.
  await rm(path.dirname(paths.binlogBase), { recursive: true, force: true });
  for (const entry of await readdir(staging)) {
    if (!TOOL_FILES.test(entry)) await rename(path.join(staging, entry), path.join(datadir, entry));
  }
  await rm(staging, { recursive: true, force: true });

  // 3. Start it and give it the backup's GTID state.
  const endpoint: JsonObject = {
    host: '127.0.0.1',
    port: ctx.target.port,
    user: ctx.target.user,
    datadir,
    socket: paths.socket,
    pidFile: paths.pidFile,
    tmpdir: paths.tmpdir,
    errorLog: paths.errorLog,
    started: false,
    binlogFile: consistency.binlogFile ?? null,
    binlogPosition: consistency.binlogPosition ?? null,
    gtid: consistency.gtid ?? null,
    objects: ((ctx.backup.facts as { objects?: JsonObject }).objects ?? {}),
  };
  if (physical.start) {
    const serverId = physical.serverId ?? (typeof consistency.serverId === 'number' ? (consistency.serverId % 4_294_967_295) + 1 : 2);
    // startServer gives the server its private tmpdir (paths.tmpdir).
    const server = await restoreServersOf(ctx).start({ dataDir: datadir, port: ctx.target.port, serverId });
    ctx.logger.info('mysql physical restore: server started', { datadir, port: server.port, pid: server.pid });
    Object.assign(endpoint, { started: true, serverId, pid: server.pid }, await setGtidState(ctx, consistency));
  }
  return { endpoint, bytes: artifact.size, durationMs: Date.now() - started };
}

/**
 * MariaDB: `SET GLOBAL gtid_slave_pos` to the backup's GTID position, so `CHANGE MASTER TO
 * master_use_gtid=slave_pos` continues from exactly the backup. MySQL restores carry their
 * `gtid_executed` in InnoDB already; nothing to set. The restored server's accounts are the
 * source's: one the target names that may not set it (no REPLICATION SLAVE ADMIN, or SUPER before
 * MariaDB 10.5.2) leaves it unset, with a warning and the statement to run — the data is restored
 * whole, and only replicating from the source needs it.
 */
async function setGtidState(ctx: Ctx, consistency: MysqlConsistency): Promise<JsonObject> {
  if (consistency.flavor !== 'mariadb' || !consistency.gtid) return { gtidSlavePos: null };
  const settings = { ...ctx.target, host: '127.0.0.1', socketPath: undefined };
  let connection: Connection;
  try {
    connection = await createConnection(connectionOptions(settings));
  } catch (error) {
    throw toMysqlError(error, `logging in to the restored server on port ${ctx.target.port} with the target's credentials (they must be the source's)`, 'MYSQL_CONNECT_FAILED');
  }
  try {
    const notSet = await setGtidSlavePos(connection, consistency.gtid, ctx);
    if (notSet) return { gtidSlavePos: null, gtidSlavePosNotSet: notSet };
    const [rows] = await connection.query('SELECT @@GLOBAL.gtid_slave_pos AS pos') as [Array<{ pos: string }>, unknown];
    return { gtidSlavePos: rows[0].pos };
  } catch (error) {
    throw toMysqlError(error, 'setting gtid_slave_pos on the restored server');
  } finally {
    await connection.end().catch(() => undefined);
  }
}

function invalid(message: string): PermanentError {
  return new PermanentError(message, { code: 'INVALID_TARGET', engine: ENGINE });
}

/** The marker this restore left next to `datadir` (same spool dir and backup), or undefined. */
export async function ownPhysicalMarker(ctx: Ctx, datadir: string): Promise<RestoreMarker | undefined> {
  return ownRestoreMarker(datadir, dataDirRestore(ctx, datadir));
}

/** Marks this restore's data dir finished (after a point-in-time replay, when there is one). */
export async function markPhysicalRestoreDone(ctx: Ctx, datadir: string): Promise<void> {
  await markRestoreDone(datadir, dataDirRestore(ctx, datadir));
}
