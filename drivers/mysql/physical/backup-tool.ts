/**
 * The external tools of a physical backup: which one (mariabackup for MariaDB, xtrabackup for
 * MySQL), its argv, and what the tool's stderr tells us (lock time, binlog position). The
 * credentials reach the tool in a client option file (shared/client-option-file.ts), never argv.
 * Running them is core/host's (run-tool.ts, streaming-tool.ts); what their failures mean is
 * tool-errors.ts.
 *
 * The argv builders and parsers are pure so both flavours are unit-testable without either tool.
 */
import { PermanentError } from '../../../core/errors';
import { hasCommand } from '../../../core/host/debian-packages';
import type { Flavor } from '../shared/version';

export type BackupToolKind = 'mariabackup' | 'xtrabackup';

/** The physical backup tool found for a server. */
export interface BackupTool {
  kind: BackupToolKind;
  /** Backup/prepare executable (`mariabackup`, `mariadb-backup`, `xtrabackup`). */
  command: string;
  /** xbstream extractor (`mbstream` for MariaDB, `xbstream` for Percona). */
  extractCommand: string;
}

/** `[major, minor]` of a version string such as `10.11.19-MariaDB` or `8.0.36`. */
export function majorMinor(version: string): [number, number] {
  const match = /(\d+)\.(\d+)/.exec(version);
  if (!match) throw new PermanentError(`cannot read a version number from '${version}'`, { code: 'UNSUPPORTED_VERSION', engine: 'mysql' });
  return [Number(match[1]), Number(match[2])];
}

/**
 * Chooses the backup tool for a server: mariabackup for MariaDB 10.3+ (BACKUP STAGE locks from 10.4),
 * xtrabackup for MySQL 5.7, 8.0 and 8.4. A configured tool that cannot back up the server is
 * refused, as is a server version no tool supports.
 * @throws PermanentError `UNSUPPORTED_VERSION`, `UNSUPPORTED_TOOL` or `MISSING_TOOL`.
 */
export function chooseBackupTool(
  server: { flavor: Flavor; version: string },
  configured?: BackupToolKind,
  isAvailable: (command: string) => boolean = hasCommand,
): BackupTool {
  const [major, minor] = majorMinor(server.version);
  if (server.flavor === 'mariadb') {
    if (major < 10 || (major === 10 && minor < 3)) {
      throw new PermanentError(`MariaDB ${server.version} is not supported for physical backups (10.3 or later needed)`, { code: 'UNSUPPORTED_VERSION', engine: 'mysql' });
    }
    if (configured === 'xtrabackup') {
      throw new PermanentError(`xtrabackup cannot back up MariaDB ${server.version}; use mariabackup`, { code: 'UNSUPPORTED_TOOL', engine: 'mysql' });
    }
    const command = ['mariabackup', 'mariadb-backup'].find(isAvailable);
    if (!command) throw missingTool('mariabackup (or mariadb-backup)', 'mariadb-backup');
    if (!isAvailable('mbstream')) throw missingTool('mbstream', 'mariadb-backup');
    return { kind: 'mariabackup', command, extractCommand: 'mbstream' };
  }
  const supported = (major === 5 && minor === 7) || (major === 8 && (minor === 0 || minor === 4));
  if (!supported) {
    throw new PermanentError(`MySQL ${server.version} is not supported for physical backups (5.7, 8.0 and 8.4 are)`, { code: 'UNSUPPORTED_VERSION', engine: 'mysql' });
  }
  if (configured === 'mariabackup') {
    throw new PermanentError(`mariabackup cannot back up MySQL ${server.version}; use xtrabackup`, { code: 'UNSUPPORTED_TOOL', engine: 'mysql' });
  }
  if (!isAvailable('xtrabackup')) throw missingTool('xtrabackup', `percona-xtrabackup-${major === 5 ? '24' : `${major}${minor}`}`);
  if (!isAvailable('xbstream')) throw missingTool('xbstream', 'percona-xtrabackup');
  return { kind: 'xtrabackup', command: 'xtrabackup', extractCommand: 'xbstream' };
}

function missingTool(what: string, packageName: string): PermanentError {
  return new PermanentError(`${what} is not installed on this host (package ${packageName})`, { code: 'MISSING_TOOL', engine: 'mysql' });
}

/**
 * Checks the tool's `--version` output matches the server: mariabackup and xtrabackup 8.x only
 * handle the redo log format of their own major.minor release (xtrabackup 2.4 handles MySQL 5.7).
 * @throws PermanentError `TOOL_VERSION_MISMATCH`
 */
export function checkToolVersion(tool: BackupTool, versionOutput: string, serverVersion: string): string {
  const match = /based on (?:MariaDB|MySQL) server (\d+\.\d+\.\d+)/i.exec(versionOutput) ?? /version (\d+\.\d+\.\d+)/i.exec(versionOutput);
  if (!match) return 'unknown';
  const toolVersion = match[1];
  const [toolMajor, toolMinor] = majorMinor(toolVersion);
  const [major, minor] = majorMinor(serverVersion);
  const compatible = tool.kind === 'xtrabackup' && major === 5
    ? /version 2\.4\./.test(versionOutput)
    : toolMajor === major && toolMinor === minor;
  if (!compatible) {
    throw new PermanentError(
      `${tool.command} ${toolVersion} cannot back up server ${serverVersion}: install the ${tool.kind} release matching the server's ${major}.${minor}`,
      { code: 'TOOL_VERSION_MISMATCH', engine: 'mysql' },
    );
  }
  return toolVersion;
}

export interface BackupArgvOptions {
  /** The client option file (shared/client-option-file.ts); must be the first argument. */
  optionFile: string;
  /** Scratch directory the tool needs even when streaming (holds nothing large). */
  targetDir: string;
  /** The server's data directory (read from the server when not configured). */
  datadir: string;
  parallel: number;
}

/** argv (without the command) of a streamed full backup to stdout. */
export function backupArgv(_tool: BackupTool, options: BackupArgvOptions): string[] {
  return [
    `--defaults-file=${options.optionFile}`,
    '--backup',
    '--stream=xbstream',
    `--target-dir=${options.targetDir}`,
    `--datadir=${options.datadir}`,
    `--parallel=${options.parallel}`,
  ];
}

/** argv of `--prepare` on an extracted copy (crash recovery applied, ready to start a server on). */
export function prepareArgv(_tool: BackupTool, targetDir: string): string[] {
  return ['--no-defaults', '--prepare', `--target-dir=${targetDir}`];
}

/** argv of the extractor reading the stream on stdin into `dir`. */
export function extractArgv(_tool: BackupTool, dir: string, parallel = 1): string[] {
  return ['-x', `--directory=${dir}`, `--parallel=${parallel}`];
}

/** The binlog coordinates in `xtrabackup_binlog_info` (`file<TAB>position[<TAB>gtid]`). */
export interface BinlogCoordinates {
  binlogFile: string;
  binlogPosition: number;
  gtid?: string;
}

/**
 * Parses `xtrabackup_binlog_info`. MariaDB writes one line, `binlog.000002	1234	0-1-56`;
 * MySQL's GTID set may span several lines (`uuid:1-5,\nuuid2:1-3`). Empty = binary logging off.
 */
export function parseBinlogInfo(text: string): BinlogCoordinates | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const match = /^(\S+)\s+(\d+)(?:\s+([\s\S]+))?$/.exec(trimmed);
  if (!match) {
    throw new PermanentError(`xtrabackup_binlog_info is malformed: '${trimmed.slice(0, 200)}'`, { code: 'SNAPSHOT_CORRUPT', engine: 'mysql' });
  }
  const gtid = match[3]?.replace(/\s+/g, '');
  return { binlogFile: match[1], binlogPosition: Number(match[2]), ...(gtid ? { gtid } : {}) };
}

/** The binlog position mariabackup prints at the end (`MySQL binlog position: filename '...', position '...', GTID of the last change '...'`). */
export function parseBinlogPositionLine(line: string): BinlogCoordinates | undefined {
  const match = /binlog position: filename '([^']+)', position '(\d+)'(?:, GTID of the last change '([^']*)')?/.exec(line);
  if (!match) return undefined;
  return { binlogFile: match[1], binlogPosition: Number(match[2]), ...(match[3] ? { gtid: match[3] } : {}) };
}

/** Parses `key = value` lines (`xtrabackup_checkpoints`, `xtrabackup_info`). */
export function parseKeyValues(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/**
 * Measures, from the tool's stderr as it arrives, how long writes were blocked. mariabackup
 * (BACKUP STAGE): commits are blocked from `BLOCK_COMMIT` until `BACKUP STAGE END`, DDL from
 * `BLOCK_DDL`. xtrabackup: from `FLUSH TABLES WITH READ LOCK` / `LOCK INSTANCE FOR BACKUP` until
 * the unlock. Times are this process's clock when each line is read (the tool prints seconds only).
 */
export class LockTimer {
  private writeStart?: number;
  private ddlStart?: number;
  private writeMs?: number;
  private ddlMs?: number;
  /** When the backup's point was fixed (commits blocked): the snapshot's time. */
  private pointAt?: number;
  kind: 'backup-stage' | 'flush-tables-with-read-lock' | 'none' = 'none';

  /** Feeds one stderr line seen at `nowMs`. */
  line(text: string, nowMs: number): void {
    if (/Acquired locks for BACKUP STAGE BLOCK_DDL/.test(text)) {
      this.ddlStart = nowMs;
      this.kind = 'backup-stage';
    } else if (/Acquired locks for BACKUP STAGE BLOCK_COMMIT/.test(text)) {
      this.writeStart = nowMs;
      this.pointAt = nowMs;
      this.kind = 'backup-stage';
    } else if (/Executing (FLUSH TABLES WITH READ LOCK|LOCK TABLES FOR BACKUP|LOCK INSTANCE FOR BACKUP)/.test(text)) {
      this.writeStart ??= nowMs;
      this.ddlStart ??= nowMs;
      this.pointAt ??= nowMs;
      this.kind = 'flush-tables-with-read-lock';
    } else if (/Executing BACKUP STAGE END|All tables unlocked|Executing UNLOCK (TABLES|INSTANCE)/.test(text)) {
      if (this.writeStart !== undefined && this.writeMs === undefined) this.writeMs = nowMs - this.writeStart;
      if (this.ddlStart !== undefined && this.ddlMs === undefined) this.ddlMs = nowMs - this.ddlStart;
    }
  }

  /** Milliseconds writes were blocked, DDL was blocked, when the point was fixed; undefined when the tool did not say. */
  result(): { writeMs?: number; ddlMs?: number; pointAt?: number; kind: LockTimer['kind'] } {
    return { writeMs: this.writeMs, ddlMs: this.ddlMs, pointAt: this.pointAt, kind: this.kind };
  }
}
