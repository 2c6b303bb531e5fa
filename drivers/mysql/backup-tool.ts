/**
 * The external tools of a physical backup: which one (mariabackup for MariaDB, xtrabackup for
 * MySQL), its argv, the client option file that carries the credentials (never argv, which every
 * local user can read in `ps`), what the tool's stderr tells us (lock time, binlog position,
 * failures), and running a tool with its stderr kept for the error message — to completion
 * (`runTool`), or with its stdout streamed through this process (`spawnStreamingTool`, whose exit
 * gate keeps a failed tool's output from ever being committed). Either way, how the tool ended
 * becomes an error in one place (`toolExitError`).
 *
 * The argv builders and parsers are pure so both flavours are unit-testable without either tool.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { AUTH_FAILED, PermanentError, TransientError, type ClassifiedError } from '../../core/errors';
import { hasCommand } from '../../core/host/debian-packages';
import type { Flavor } from './version';

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

/** How a client tool reaches the server. */
export interface ClientSettings {
  host: string;
  port: number;
  socketPath?: string;
  user: string;
  password?: string;
}

/** Quotes an option-file value (`"..."` with the escapes MariaDB/MySQL option files understand). */
export function quoteOptionValue(value: string): string {
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
  return `"${escaped}"`;
}

/**
 * A `[client]` option file for `--defaults-file`: credentials stay out of argv (and out of
 * mariabackup's recorded `tool_command`). With a socket the host and port are not written; without
 * one, `protocol=tcp` keeps `localhost` from silently meaning the default socket.
 */
export function clientOptionFile(settings: ClientSettings): string {
  const lines = ['[client]', `user=${quoteOptionValue(settings.user)}`];
  if (settings.password !== undefined && settings.password !== '') lines.push(`password=${quoteOptionValue(settings.password)}`);
  else lines.push('password=');
  if (settings.socketPath) {
    lines.push(`socket=${quoteOptionValue(settings.socketPath)}`, 'protocol=socket');
  } else {
    lines.push(`host=${quoteOptionValue(settings.host)}`, `port=${settings.port}`, 'protocol=tcp');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes {@link clientOptionFile} to a private (0600) file in a private directory inside `parent`
 * (the run's spool: should the run be killed, the file goes with the run's other leftovers rather
 * than staying in the system's temp directory), runs `fn` with its path, and removes it whatever happens.
 */
export async function withClientOptionFile<T>(settings: ClientSettings, parent: string, fn: (file: string) => Promise<T>): Promise<T> {
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(parent, '.mysql-client-'));
  const file = path.join(dir, 'client.cnf');
  try {
    await writeFile(file, clientOptionFile(settings), { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface BackupArgvOptions {
  /** The {@link clientOptionFile}; must be the first argument. */
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

/** Keeps a tool's stderr for error messages: the last lines, plus every line that names an error. */
export class StderrLog {
  private readonly tail: string[] = [];
  private readonly errors: string[] = [];
  private partial = '';

  constructor(private readonly onLine?: (line: string) => void, private readonly keep = 40) {}

  /** Feeds a chunk of stderr. */
  write(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.add(line);
  }

  /** Flushes the last unterminated line. */
  end(): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
  }

  private add(raw: string): void {
    const line = redactSecrets(raw);
    this.tail.push(line);
    if (this.tail.length > this.keep) this.tail.shift();
    if (/error|denied|missing required privilege|failed|invalid|corrupt|can't|cannot/i.test(line) && this.errors.length < 20) this.errors.push(line);
    // Last: what the callback does (abort the step, say) already finds the line in the log.
    this.onLine?.(raw);
  }

  /** Error lines first, then the tail, without duplicates; bounded in size. */
  text(max = 4000): string {
    const lines = [...this.errors, ...this.tail.filter((l) => !this.errors.includes(l))];
    const joined = lines.join('\n').trim();
    return joined.length <= max ? joined : `${joined.slice(0, max)}…`;
  }
}

/**
 * Hides password hashes and passwords a tool may echo (mariabackup prints `SHOW GRANTS` when a
 * privilege is missing: `IDENTIFIED BY PASSWORD '*94BD…'`, `IDENTIFIED VIA ed25519 USING '…'`).
 */
export function redactSecrets(line: string): string {
  return line.replace(/\b(PASSWORD|USING|IDENTIFIED BY)(\s*\(?\s*)'(?:[^'\\]|\\.)*'/gi, "$1$2'<redacted>'");
}

/**
 * Classifies a tool that ran and failed from what it printed. Auth, privileges and corruption are
 * permanent; an unreachable or restarting server is transient. The message names how the tool
 * ended and carries its stderr tail with secrets redacted. {@link toolExitError} decides first
 * whether the tool failed at all (rather than being aborted, not started or starved of input).
 * @param what short description, e.g. `mariabackup --backup`
 */
export function toolFailure(
  what: string, exit: { code: number | null; signal?: NodeJS.Signals | null }, stderr: string, fallbackCode = 'MYSQL_TOOL_FAILED',
): ClassifiedError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const detail = redactSecrets(stderr.trim()) || '(no output)';
  const fail = (kind: 'permanent' | 'transient', code: string, summary: string): ClassifiedError => {
    const message = `${what} ${how}: ${summary}\n${detail}`;
    return kind === 'transient' ? new TransientError(message, { code, engine: 'mysql' }) : new PermanentError(message, { code, engine: 'mysql' });
  };
  const needed = /you need \(at least one of\) the (.+?) privilege/i.exec(stderr);
  if (needed) return fail('permanent', 'MYSQL_PRIVILEGES', `the user lacks the ${needed[1]} privilege`);
  const missing = [...stderr.matchAll(/missing required privilege (.+?) on/gi)].map((m) => m[1]);
  if (missing.length > 0) {
    return fail('permanent', 'MYSQL_PRIVILEGES',
      `the backup user lacks ${missing.join(', ')}; mariabackup needs RELOAD, PROCESS, LOCK TABLES and BINLOG MONITOR (REPLICATION CLIENT before 10.5) on *.*`);
  }
  if (/Access denied for user/i.test(stderr)) return fail('permanent', AUTH_FAILED, 'authentication failed (MYSQL_AUTH): wrong user or password');
  const unquoted = /failed to execute query BACKUP LOCK (.+?): Incorrect table name/i.exec(stderr);
  if (unquoted) {
    return fail('permanent', 'MYSQL_UNSUPPORTED_NAME',
      `it cannot lock the non-InnoDB table ${unquoted[1]}: it does not quote a backtick in a database or table name (a mariabackup bug); rename it, convert it to InnoDB, or back up in logical mode`);
  }
  if (/Can't connect to|Lost connection to|server has gone away|Too many connections|is not allowed to connect/i.test(stderr)) {
    return fail('transient', 'MYSQL_UNAVAILABLE', 'cannot reach the server');
  }
  if (/invalid checksum|xb_stream_read_chunk|incorrect chunk|my_read\(\) failed|unexpected end of (stream|file)|corrupt/i.test(stderr)) {
    return fail('permanent', 'SNAPSHOT_CORRUPT', 'the backup stream is corrupt or truncated');
  }
  if (/Could not find first log file name in binary log index|could not find next log|Error reading packet from server: .*purged/i.test(stderr)) {
    return fail('permanent', 'BINLOG_NOT_FOUND', 'a binary log is no longer on the server (purged?)');
  }
  if (/No space left on device|errno: ?28\b/i.test(stderr)) return fail('permanent', 'DISK_FULL', 'no space left on device');
  return fail('permanent', fallbackCode, 'see its output');
}

/** How a tool run ended: everything {@link toolExitError} judges it by. */
export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /**
   * The child process's own error: it could not be started (`ENOENT`, `EACCES`, ...), or it was
   * stopped by the step's abort signal (an `AbortError`).
   */
  error?: NodeJS.ErrnoException;
  /** The tool's input (a buffered run's stdin) failed: the store's read, a checksum check. */
  inputError?: Error;
  /** Its stderr, as {@link StderrLog.text} keeps it. */
  stderr: string;
}

/**
 * The one place where a finished tool process becomes our error; undefined when it succeeded.
 * Both the buffered runs ({@link runTool}) and the streaming tool's exit gate
 * ({@link spawnStreamingTool}) ask it, in this order:
 *
 * 1. Stopped by the step's abort signal: PermanentError `ABORTED`, whatever the tool then exited
 *    with (killed by SIGTERM, or a code of its own from a signal handler — even 0, whose output
 *    must not be committed). The tool did not fail, so blaming it (`MYSQL_TOOL_FAILED` with its
 *    stderr) would mislead, and an abort is not worth retrying in process; `ABORTED` is what every
 *    other part of the driver (dumps, loads, digests) reports for the same signal.
 * 2. Not started: PermanentError `MISSING_TOOL`.
 * 3. Its input failed: that error (it is the cause; the tool's exit is only the consequence, and
 *    the input's own classification — a transient store read, a checksum mismatch — is kept).
 * 4. Exit 0: success.
 * 5. Non-zero exit or killed: {@link toolFailure} (`MYSQL_TOOL_FAILED` or `fallbackCode` unless its
 *    stderr names a known cause).
 * @param command the executable, for "not installed" messages
 * @param what short description for the other messages, e.g. `mariabackup --prepare`
 */
export function toolExitError(command: string, what: string, exit: ToolExit, fallbackCode = 'MYSQL_TOOL_FAILED'): Error | undefined {
  const { error } = exit;
  const output = redactSecrets(exit.stderr.trim());
  const withOutput = (message: string) => (output ? `${message}\n${output}` : message);
  if (error?.name === 'AbortError') {
    return new PermanentError(withOutput(`${what} was stopped: the step was aborted`), { code: 'ABORTED', engine: 'mysql', cause: error });
  }
  if (error && notStarted(error)) {
    return new PermanentError(
      error.code === 'ENOENT' ? `${command} is not installed on this host` : `cannot run ${command}: ${error.message}`,
      { code: 'MISSING_TOOL', engine: 'mysql', cause: error },
    );
  }
  if (exit.inputError) return exit.inputError;
  if (exit.code === 0 && !error) return undefined;
  if (error && (exit.code === 0 || (exit.code === null && !exit.signal))) {
    return new PermanentError(withOutput(`${what} failed: ${error.message}`), { code: fallbackCode, engine: 'mysql', cause: error });
  }
  return toolFailure(what, exit, exit.stderr, fallbackCode);
}

/** True for a child process error that means the tool never ran. */
function notStarted(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOENT' || error.code === 'EACCES' || (error.syscall?.startsWith('spawn') ?? false);
}

/**
 * {@link toolExitError} for a process known only by its `error` event (not started, or aborted);
 * for callers that do not keep a {@link ToolExit}.
 */
export function spawnFailure(command: string, error: NodeJS.ErrnoException): Error {
  return toolExitError(command, command, { code: null, signal: null, error, stderr: '' })!;
}

export interface RunToolOptions {
  /** Short description for errors, e.g. `mariabackup --prepare`. */
  what: string;
  /** Error code when the output names no known cause (default `MYSQL_TOOL_FAILED`). */
  fallbackCode?: string;
  /** Piped to the tool's stdin; destroyed if the tool exits before reading it all. */
  stdin?: Readable;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onStderrLine?: (line: string) => void;
}

/** A started tool and how it will end (the promise never rejects). */
interface StartedTool {
  child: ChildProcess;
  exited: Promise<ToolExit>;
}

/**
 * Spawns a tool with its stderr kept (`keep` lines, plus its error lines) and fed to
 * `onStderrLine`, and records its exit for {@link toolExitError}.
 */
function startTool(
  command: string, argv: string[], stdio: { stdin: 'pipe' | 'ignore'; stdout: 'pipe' | 'ignore' }, options: RunToolOptions, keep?: number,
): StartedTool {
  const log = new StderrLog(options.onStderrLine, keep);
  const child = spawn(command, argv, { stdio: [stdio.stdin, stdio.stdout, 'pipe'], env: options.env ?? process.env, signal: options.signal });
  let error: NodeJS.ErrnoException | undefined;
  child.once('error', (e: NodeJS.ErrnoException) => { error ??= e; });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<ToolExit>((resolve) => {
    child.once('close', (code, signal) => {
      log.end();
      resolve({ code, signal, error, stderr: log.text() });
    });
  });
  return { child, exited };
}

/**
 * Runs a tool to completion (stdout discarded, stderr kept for the error message), `stdin` piped
 * into it. A failing input stops the tool (SIGTERM) and is the run's error.
 * @throws what {@link toolExitError} makes of its exit.
 */
export async function runTool(command: string, argv: string[], options: RunToolOptions): Promise<{ stderr: string }> {
  const { stdin } = options;
  const { child, exited } = startTool(command, argv, { stdin: stdin ? 'pipe' : 'ignore', stdout: 'ignore' }, options, 200);
  let inputError: Error | undefined;
  if (stdin && child.stdin) {
    const toolInput = child.stdin;
    toolInput.on('error', () => { /* the exit code tells */ });
    // The tool must not wait for the rest of a failed input: close its stdin, and stop it.
    stdin.on('error', (error) => { inputError ??= error; toolInput.destroy(); child.kill('SIGTERM'); });
    stdin.pipe(toolInput);
  }
  const exit = await exited;
  // A tool that stopped early leaves its input unread: release it (file handles, sockets).
  if (stdin && !stdin.readableEnded) stdin.destroy();
  const error = toolExitError(command, options.what, { ...exit, inputError }, options.fallbackCode);
  if (error) throw error;
  return { stderr: exit.stderr };
}

/** Size of the blocks {@link ExitGate} passes on. */
const GATE_BLOCK = 1024 * 1024;

/**
 * The pass-through behind {@link StreamingTool.exitGate}. It also gathers the pipe's small reads
 * (64 KiB) into blocks of {@link GATE_BLOCK}, so the stages downstream (checks, hash, file or
 * multipart writes) handle a few large chunks rather than many small ones.
 */
class ExitGate extends Transform {
  private parts: Buffer[] = [];
  private bytes = 0;

  /** @param failure resolves to the tool's error once it has exited (undefined for success). */
  constructor(private readonly failure: () => Promise<Error | undefined>) {
    super({ highWaterMark: 2 * GATE_BLOCK });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.parts.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= GATE_BLOCK) this.pushBlock();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes > 0) this.pushBlock();
    this.failure().then((error) => callback(error ?? null), callback);
  }

  private pushBlock(): void {
    this.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bytes));
    this.parts = [];
    this.bytes = 0;
  }
}

/** How long a stopped tool gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** A tool whose stdout is the product (a backup stream), see {@link spawnStreamingTool}. */
export interface StreamingTool {
  /** The tool's stdout. */
  readonly stdout: Readable;
  /**
   * A pass-through to put right after `stdout`: when the stream ends it waits for the tool to exit
   * and fails the stream unless it exited 0, so a writer that commits only a whole stream (the
   * spool's rename, the store's put) never commits the output of a failed tool.
   */
  readonly exitGate: Transform;
  /** Resolves (never rejects) when the tool has exited and its stderr is read. */
  readonly exited: Promise<ToolExit>;
  /** Stops the tool (SIGTERM, SIGKILL after a grace period) if it is still running, e.g. when the stream's consumer failed. */
  stop(): void;
}

/**
 * Starts a tool whose stdout is read by this process (piped, so it can be hashed, checked and sent
 * to the store as it is produced). Its stderr is kept for the error message and fed line by line
 * to `onStderrLine`. The tool's failure surfaces through {@link StreamingTool.exitGate}, as
 * {@link toolExitError} makes it.
 */
export function spawnStreamingTool(command: string, argv: string[], options: Omit<RunToolOptions, 'stdin' | 'fallbackCode'>): StreamingTool {
  const { child, exited } = startTool(command, argv, { stdin: 'ignore', stdout: 'pipe' }, options);
  const exitGate = new ExitGate(() => exited.then((exit) => toolExitError(command, options.what, exit)));
  return {
    stdout: child.stdout!,
    exitGate,
    exited,
    stop: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      kill.unref();
      void exited.then(() => clearTimeout(kill));
    },
  };
}

/** Runs a tool and returns its stdout (small outputs: `--version`). */
export function toolOutput(command: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => out.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => reject(spawnFailure(command, error)));
    child.once('close', () => resolve(Buffer.concat(out).toString('utf8')));
  });
}
