/**
 * MariaDB/MySQL servers as plain processes: a throwaway server for the demo and the tests, and a
 * server started on a restored data directory after a physical restore. A server runs detached,
 * listens on 127.0.0.1 only (or on its socket only), keeps its socket, pid file and error log next to its data dir, and
 * writes a row-based binlog with GTIDs (so point-in-time replay works).
 */
import { spawn, execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { PermanentError, TransientError } from '../../core/errors';
import { isAlive, recordedPid, stopRecordedProcess } from '../../core/host/processes';

const run = promisify(execFile);

export interface ServerPaths {
  dataDir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  binlogBase: string;
  /** Private tmpdir: servers sharing /tmp collide on internal temporary table names. */
  tmpdir: string;
}

/** Files of a server, next to (not inside) its data dir so the data dir holds only data. */
export function serverPaths(dataDir: string): ServerPaths {
  const base = path.resolve(dataDir);
  return {
    dataDir: base,
    socket: `${base}.sock`,
    pidFile: `${base}.pid`,
    errorLog: `${base}.err`,
    binlogBase: path.join(`${base}-binlog`, 'binlog'),
    tmpdir: `${base}.tmp`,
  };
}

export interface RunningServer extends ServerPaths {
  host: string;
  port: number;
  pid: number;
  /** root with no password (throwaway servers only). */
  user: string;
  password: string;
  stop(): Promise<void>;
}

/** Creates the system tables in an empty data dir (`mariadb-install-db`), root reachable over TCP. */
export async function initializeDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const { tmpdir } = serverPaths(dataDir);
  await mkdir(tmpdir, { recursive: true });
  try {
    await run('mariadb-install-db', [
      '--no-defaults', '--user=root', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal',
      '--skip-test-db', '--skip-name-resolve', `--tmpdir=${tmpdir}`,
    ], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    throw new PermanentError(`mariadb-install-db failed for ${dataDir}: ${(error as { stderr?: string }).stderr ?? String(error)}`, { code: 'MYSQL_INIT_FAILED', engine: 'mysql' });
  }
}

export interface StartServerOptions {
  dataDir: string;
  /** TCP port on 127.0.0.1, or `socket-only`: no network at all, the socket next to the data dir (a server without grant checks must not be reachable by others). */
  port: number | 'socket-only';
  /** Server id for the binlog; default 1. */
  serverId?: number;
  /** Extra `--option=value` arguments. */
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

/**
 * Starts `mariadbd` on an initialised (or restored) data dir and waits until it accepts logins.
 * @throws PermanentError `MYSQL_START_FAILED` when it exits during startup; TransientError
 *   `MYSQL_START_TIMEOUT` when it does not accept logins in time (it is stopped first).
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const paths = serverPaths(options.dataDir);
  await mkdir(path.dirname(paths.binlogBase), { recursive: true });
  await mkdir(paths.tmpdir, { recursive: true });
  const log = openSync(paths.errorLog, 'a');
  const child = spawn('mariadbd', [
    '--no-defaults', '--user=root', `--datadir=${paths.dataDir}`, `--socket=${paths.socket}`, pidFileArgument(paths.pidFile),
    `--log-error=${paths.errorLog}`, `--tmpdir=${paths.tmpdir}`,
    ...(options.port === 'socket-only' ? ['--skip-networking'] : ['--bind-address=127.0.0.1', `--port=${options.port}`]),
    `--server-id=${options.serverId ?? 1}`, `--log-bin=${paths.binlogBase}`, '--binlog-format=ROW',
    '--innodb-buffer-pool-size=128M', '--innodb-log-file-size=64M', '--skip-name-resolve',
    '--local-infile=1', '--max-allowed-packet=256M',
    ...(options.extraArgs ?? []),
  ], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const pid = child.pid!;
  const server: RunningServer = {
    ...paths, host: '127.0.0.1', port: options.port === 'socket-only' ? 0 : options.port, pid, user: 'root', password: '',
    stop: () => stopServer(paths.pidFile, pid),
  };
  const address = options.port === 'socket-only' ? { socketPath: paths.socket } : { host: server.host, port: server.port };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    try {
      const connection = await mysql.createConnection({ ...address, user: 'root', connectTimeout: 1000 });
      await connection.end();
      return server;
    } catch (error) {
      // Access denied means the server is up: a restored server keeps the source's root password.
      if ((error as { errno?: number }).errno === 1045) return server;
      if (!isAlive(pid)) {
        throw new PermanentError(`mariadbd exited during startup on ${paths.dataDir}: ${logTail(paths.errorLog)}`, { code: 'MYSQL_START_FAILED', engine: 'mysql', cause: error });
      }
      if (Date.now() > deadline) {
        // Not left running: a retry would find the data dir locked and the port taken.
        await server.stop().catch(() => undefined); // the start's own error is the one to report
        throw new TransientError(`mariadbd on ${options.port === 'socket-only' ? paths.socket : `port ${options.port}`} did not accept logins in time (stopped it): ${logTail(paths.errorLog)}`, { code: 'MYSQL_START_TIMEOUT', engine: 'mysql', cause: error });
      }
      await sleep(100);
    }
  }
}

/** A fresh throwaway server in `dir` (initialised, started). */
export async function startLocalMariaDb(options: { dir: string; port: number; serverId?: number }): Promise<RunningServer> {
  const dataDir = path.join(options.dir, 'data');
  const existing = await readdir(dataDir).catch(() => []);
  if (existing.length === 0) await initializeDataDir(dataDir);
  return startServer({ dataDir, port: options.port, serverId: options.serverId });
}

function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no error log)';
  }
}

/**
 * What a MariaDB/MySQL server runs as (`mysqld` is MySQL's and MariaDB's older name). A pid file
 * naming any other program is stale.
 */
const SERVER_PROGRAMS = ['mariadbd', 'mysqld'];

/**
 * The argument only the server we started with `pidFile` has: another mariadbd on this host (the
 * production server beside a restore) runs the same program, so the program name alone could
 * name it after its pid was reused.
 */
function pidFileArgument(pidFile: string): string {
  return `--pid-file=${pidFile}`;
}

/** The pid of the live server `pidFile` records; undefined when none runs there, a stale pid file included. */
export function serverPid(pidFile: string): Promise<number | undefined> {
  return recordedPid(pidFile, SERVER_PROGRAMS, pidFileArgument(pidFile));
}

/**
 * Stops the server of `pidFile` (or `pid`): SIGTERM, then SIGKILL after the timeout, and removes
 * the pid file. Only a mariadbd/mysqld is signalled: a stale pid file is just removed. Missing
 * pid file or dead process = already stopped.
 */
export async function stopServer(pidFile: string, pid?: number, timeoutMs = 30_000): Promise<void> {
  await stopRecordedProcess(pidFile, SERVER_PROGRAMS, { pid, timeoutMs, argument: pidFileArgument(pidFile) });
}
