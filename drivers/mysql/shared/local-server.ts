/**
 * MariaDB/MySQL servers as plain processes: a throwaway server for the demo and the tests, and a
 * server started on a restored data directory after a physical restore. A server runs detached,
 * listens on 127.0.0.1 only (or on its socket only), keeps its socket, pid file and error log next to its data dir, and
 * writes a row-based binlog with GTIDs (so point-in-time replay works).
 */
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { recordedPid, stopRecordedProcess } from '../../../core/host/processes';
import { runTool } from '../../../core/host/run-tool';
import { startServerProcess } from '../../../core/host/server-process';
import { ENGINE } from './layout';
import { MYSQL_TOOLS } from './tool-errors';

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
  await runTool('mariadb-install-db', [
    '--no-defaults', '--user=root', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal',
    '--skip-test-db', '--skip-name-resolve', `--tmpdir=${tmpdir}`,
  ], { errors: MYSQL_TOOLS, what: `mariadb-install-db for ${dataDir}`, fallbackCode: 'MYSQL_INIT_FAILED' });
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

/** MySQL's "access denied": the server answers, with credentials that are not root's empty ones. */
const ACCESS_DENIED = 1045;

/**
 * One readiness probe: a login succeeds — or is refused, which also means the server is up (a
 * restored server keeps the source's root password).
 */
async function probeLogin(address: { socketPath: string } | { host: string; port: number }): Promise<void> {
  try {
    const connection = await createConnection({ ...address, user: 'root', connectTimeout: 1000 });
    await connection.end();
  } catch (error) {
    if ((error as { errno?: number }).errno !== ACCESS_DENIED) throw error;
  }
}

/**
 * Starts `mariadbd` on an initialised (or restored) data dir (core/host/server-process.ts) and
 * waits until it accepts logins; on failure it is stopped again.
 * @throws PermanentError `MYSQL_START_FAILED` when it exits during startup; TransientError
 *   `MYSQL_START_TIMEOUT` when it does not accept logins in time (both with the error log's tail).
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const paths = serverPaths(options.dataDir);
  await mkdir(path.dirname(paths.binlogBase), { recursive: true });
  await mkdir(paths.tmpdir, { recursive: true });
  const socketOnly = options.port === 'socket-only';
  const server = await startServerProcess({
    engine: ENGINE,
    codePrefix: 'MYSQL',
    what: `mariadbd on ${socketOnly ? paths.socket : `port ${options.port}`} (data dir ${paths.dataDir})`,
    command: 'mariadbd',
    args: [
      '--no-defaults', '--user=root', `--datadir=${paths.dataDir}`, `--socket=${paths.socket}`, pidFileArgument(paths.pidFile),
      `--log-error=${paths.errorLog}`, `--tmpdir=${paths.tmpdir}`,
      ...(socketOnly ? ['--skip-networking'] : ['--bind-address=127.0.0.1', `--port=${options.port}`]),
      `--server-id=${options.serverId ?? 1}`, `--log-bin=${paths.binlogBase}`, '--binlog-format=ROW',
      '--innodb-buffer-pool-size=128M', '--innodb-log-file-size=64M', '--skip-name-resolve',
      '--local-infile=1', '--max-allowed-packet=256M',
      ...(options.extraArgs ?? []),
    ],
    logFile: paths.errorLog,
    pidFile: paths.pidFile,
    identity: { programs: SERVER_PROGRAMS, argument: pidFileArgument(paths.pidFile) },
    probe: () => probeLogin(socketOnly ? { socketPath: paths.socket } : { host: '127.0.0.1', port: options.port as number }),
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });
  return {
    ...paths, host: '127.0.0.1', port: socketOnly ? 0 : options.port as number, pid: server.pid, user: 'root', password: '', stop: server.stop,
  };
}

/** A fresh throwaway server in `dir` (initialised, started), with `extraArgs` for mariadbd. */
export async function startLocalMariaDb(options: { dir: string; port: number; serverId?: number; extraArgs?: string[] }): Promise<RunningServer> {
  const dataDir = path.join(options.dir, 'data');
  const existing = await readdir(dataDir).catch(() => []);
  if (existing.length === 0) await initializeDataDir(dataDir);
  return startServer({ dataDir, port: options.port, serverId: options.serverId, extraArgs: options.extraArgs });
}

/** How long a server gets to stop after SIGTERM (it flushes InnoDB) before SIGKILL. */
const STOP_TIMEOUT_MS = 30_000;

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
export async function stopServer(pidFile: string, pid?: number, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  await stopRecordedProcess(pidFile, SERVER_PROGRAMS, { pid, timeoutMs, argument: pidFileArgument(pidFile) });
}
