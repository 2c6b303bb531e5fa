/**
 * Archiving the server's binary logs with a backup, for point-in-time recovery: every binlog
 * still on the server, oldest first, fetched through the server's replication protocol
 * (`mariadb-binlog --read-from-remote-server --raw`, so no file-system access to the server is
 * needed) up to the end of the current one. The tool writes the files into a scratch directory of
 * the spool; each then becomes an artifact (`binlog/<name>`) written through the snapshot's sink
 * (straight into the store when the snapshot streams there), hashed on the way. The current file
 * is a prefix of what the server will write: a later backup's archive holds the longer copy, and
 * replay prefers the newest copy of each file.
 *
 * Works for logical and physical backups alike. Needs the REPLICATION SLAVE privilege (for the
 * binlog dump) and BINLOG MONITOR / REPLICATION CLIENT (for `SHOW BINARY LOGS`).
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactSink } from '../../../core/driver/artifact-sink';
import { resolveInside } from '../../../core/io/resolve-inside';
import type { ArtifactRef, BackupContext } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import { hasCommand } from '../../../core/host/debian-packages';
import { runTool } from '../../../core/host/run-tool';
import { withClientOptionFile } from '../shared/client-option-file';
import { MYSQL_TOOLS } from '../shared/tool-errors';
import type { MysqlConfig } from '../config';
import { describeServer, withConnection } from '../shared/connection';
import { binlogArtifact, ENGINE, type MysqlConsistency } from '../shared/layout';
import { binlogStatusPlan, detectServerVersion, type Flavor } from '../shared/version';

const FETCH_DIR = '.binlog-fetch';

/** What an archive holds, and up to when it is known complete. */
export interface BinlogArchive {
  artifacts: ArtifactRef[];
  /** Binlog file names, in order. */
  binlogs: string[];
  /**
   * Every transaction committed before this time is in the archive (the fetch started after it).
   * Point-in-time replay uses it to prove an `until` time is covered.
   */
  archivedAt: string;
  /** The server's binlog coordinates just before the fetch. */
  end: { file: string; position: number };
  /**
   * When each file was created (its format description event's time, ISO): two copies of one name
   * are copies of one file only when they agree (a `RESET MASTER` starts the names again).
   */
  created: Record<string, string>;
}

/**
 * When the binlog file `file` was created: the time of its format description event, which follows
 * the 4-byte magic (a raw fetch copies both as the server wrote them). Undefined when the file does
 * not start so.
 */
export async function binlogCreatedAt(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(9), 0, 9, 0);
    const isBinlog = bytesRead === 9 && buffer.readUInt32BE(0) === 0xfe62696e && buffer[8] === FORMAT_DESCRIPTION_EVENT;
    return isBinlog ? new Date(buffer.readUInt32LE(4) * 1000).toISOString() : undefined;
  } finally {
    await handle.close();
  }
}

/** The binlog event type of a format description event. */
const FORMAT_DESCRIPTION_EVENT = 15;

/** The binlog client for a server flavor: `mariadb-binlog` (or `mysqlbinlog`) for MariaDB, `mysqlbinlog` for MySQL. */
export function binlogTool(flavor: Flavor, isAvailable: (command: string) => boolean = hasCommand): string {
  const candidates = flavor === 'mariadb' ? ['mariadb-binlog', 'mysqlbinlog'] : ['mysqlbinlog'];
  const found = candidates.find(isAvailable);
  if (!found) {
    throw new PermanentError(`${candidates.join(' or ')} is not installed on this host (package ${flavor === 'mariadb' ? 'mariadb-client' : 'mysql-client'})`, { code: 'MISSING_TOOL', engine: ENGINE });
  }
  return found;
}

/** The sequence number of a binlog file (`binlog.000042` → 42). */
export function binlogSequence(file: string): number {
  const match = /\.(\d+)$/.exec(file);
  if (!match) throw new PermanentError(`'${file}' is not a binary log file name`, { code: 'INVALID_BINLOG_NAME', engine: ENGINE });
  return Number(match[1]);
}

/** Sorts binlog file names by sequence number. */
export function sortBinlogs(files: string[]): string[] {
  return [...files].sort((a, b) => binlogSequence(a) - binlogSequence(b));
}

/** argv (without the command) fetching `first` and every later binlog, raw, into `dir`. */
export function fetchBinlogsArgv(optionFile: string, first: string, dir: string): string[] {
  return [
    `--defaults-file=${optionFile}`,
    '--read-from-remote-server',
    '--raw',
    '--to-last-log',
    `--result-file=${dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`}`,
    first,
  ];
}

/**
 * Fetches every binary log still on the server and writes each through `sink` (see the module comment).
 * @throws PermanentError `BINLOG_OFF` when binary logging is off, `MYSQL_PRIVILEGES` (REPLICATION
 *   SLAVE missing), `BINLOG_NOT_FOUND` (purged while fetching); TransientError `MYSQL_UNAVAILABLE`.
 */
export async function archiveBinlogs(ctx: BackupContext<MysqlConfig>, consistency: MysqlConsistency, sink: ArtifactSink): Promise<BinlogArchive> {
  const { config } = ctx;
  const command = binlogTool(consistency.flavor);
  const archivedAt = new Date();
  const { files: present, end } = await listServerBinlogs(config);
  if (consistency.binlogFile && !present.includes(consistency.binlogFile)) {
    ctx.logger.warn('mysql binlog archive: the snapshot\'s binlog file is no longer on the server; this archive cannot replay from this backup', { binlogFile: consistency.binlogFile });
  }

  const fetchDir = resolveInside(ctx.spoolDir, FETCH_DIR);
  await rm(fetchDir, { recursive: true, force: true });
  await mkdir(fetchDir, { recursive: true });
  try {
    await withClientOptionFile(config, ctx.spoolDir, (optionFile) => runTool(command, fetchBinlogsArgv(optionFile, present[0], fetchDir), {
      errors: MYSQL_TOOLS,
      what: `${command} --read-from-remote-server`,
      fallbackCode: 'BINLOG_ARCHIVE_FAILED',
      signal: ctx.signal,
    }));
    const fetched = sortBinlogs((await readdir(fetchDir)).filter((name) => /\.\d+$/.test(name)));
    const missing = present.filter((name) => !fetched.includes(name));
    if (missing.length > 0) {
      throw new PermanentError(`the binlog fetch did not return ${missing.join(', ')}`, { code: 'BINLOG_ARCHIVE_FAILED', engine: ENGINE });
    }
    const artifacts: ArtifactRef[] = [];
    const created: Record<string, string> = {};
    for (const name of fetched) {
      const file = path.join(fetchDir, name);
      const at = await binlogCreatedAt(file);
      if (at) created[name] = at;
      artifacts.push(await sink.write(binlogArtifact(name), createReadStream(file, { highWaterMark: 1 << 20 })));
      await rm(file); // written: the spool holds one copy at a time, not the fetch and the artifacts
    }
    ctx.logger.info('mysql binlog archive: fetched', { files: fetched.length, bytes: artifacts.reduce((s, a) => s + a.size, 0) });
    return { artifacts, binlogs: fetched, archivedAt: archivedAt.toISOString(), end, created };
  } finally {
    await rm(fetchDir, { recursive: true, force: true });
  }
}

/** `SHOW BINARY LOGS` and the current position (with the status statement of the server's version). */
async function listServerBinlogs(config: MysqlConfig): Promise<{ files: string[]; end: { file: string; position: number } }> {
  return withConnection(config, { connecting: 'to archive binary logs', doing: 'listing the binary logs' }, async (connection) => {
    const [[logBin]] = await connection.query('SELECT @@log_bin AS on_') as [Array<{ on_: number | string }>, unknown];
    if (Number(logBin.on_) !== 1) {
      throw new PermanentError(`binary logging is off on ${describeServer(config)}: archiveBinlogs needs the server started with --log-bin`, { code: 'BINLOG_OFF', engine: ENGINE });
    }
    const [logs] = await connection.query('SHOW BINARY LOGS') as [Array<{ Log_name: string }>, unknown];
    const [status] = await connection.query(binlogStatusPlan(await detectServerVersion(connection)).status) as [Array<{ File: string; Position: number | string }>, unknown];
    const files = logs.map((row) => row.Log_name);
    if (files.length === 0 || status.length === 0) {
      throw new PermanentError(`${describeServer(config)} lists no binary logs`, { code: 'BINLOG_OFF', engine: ENGINE });
    }
    return { files, end: { file: status[0].File, position: Number(status[0].Position) } };
  });
}
