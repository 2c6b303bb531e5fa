/**
 * Running etcd members as plain processes: the restored member after `snapshot restore`, and the
 * throwaway single-node etcd the demo and the tests use. A member runs detached (it outlives the
 * step that started it), logs to `<dataDir>.etcd.log` and records its pid in `<dataDir>.etcd.pid`,
 * both next to the data dir so they never pollute it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { noop } from 'cockatiel';
import { Etcd3, type IMember, type IStatusResponse } from 'etcd3';
import { PermanentError, TransientError } from '../../core/errors';
import { isAlive, recordedPid, stopProcess, stopRecordedProcess } from '../../core/host/processes';

export interface StartMemberOptions {
  /** Member name. */
  name: string;
  dataDir: string;
  /** Client URL to listen on and advertise. */
  clientUrl: string;
  /** Peer URL to listen on and advertise. */
  peerUrl: string;
  /** `name=peerUrl,...`; defaults to this member alone. Ignored by etcd when the data dir already holds a member. */
  initialCluster?: string;
  /** Ignored by etcd when the data dir already holds a member (e.g. after `snapshot restore`). */
  clusterToken?: string;
  /** Defaults to `<dataDir>.etcd.log`. */
  logFile?: string;
  /** Defaults to `<dataDir>.etcd.pid`. */
  pidFile?: string;
  /** How long to wait for the member to answer (default 30 s). */
  readyTimeoutMs?: number;
  /** The etcd executable (default `etcd` on PATH). */
  etcdBinary?: string;
}

export interface RunningMember {
  pid: number;
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
  pidFile: string;
  /** The member's status when it first answered. */
  status: IStatusResponse;
  /** Stops the member (SIGTERM, then SIGKILL) and removes its pid file. */
  stop(): Promise<void>;
}

/** Default log file of a member: next to its data dir. */
export function memberLogFile(dataDir: string): string {
  return `${path.resolve(dataDir)}.etcd.log`;
}

/** Default pid file of a member: next to its data dir. */
export function memberPidFile(dataDir: string): string {
  return `${path.resolve(dataDir)}.etcd.pid`;
}

/** etcd binds only to IPs (and `localhost`); a URL with another host name listens on all interfaces. */
function listenUrl(url: string): string {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) || host === 'localhost') return url;
  return `${parsed.protocol}//0.0.0.0:${parsed.port}`;
}

/** The last `lines` lines of a log file, or a note that it cannot be read. */
export async function logTail(logFile: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(log ${logFile} unreadable: ${(error as Error).message})`;
  }
}

/**
 * Opens a client for health checks: short dial timeout, and no client-side retries or circuit
 * breaker, so each poll is one quick attempt.
 */
function probeClient(clientUrl: string, dialTimeoutMs: number): Etcd3 {
  return new Etcd3({ hosts: [clientUrl], dialTimeout: dialTimeoutMs, faultHandling: { host: () => noop, global: noop } });
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** The member entry of the member that answered `status`. */
async function answeringMember(client: Etcd3, status: IStatusResponse): Promise<IMember | undefined> {
  const list = await client.cluster.memberList({ linearizable: false }, { deadline: Date.now() + 1_000 });
  return list.members.find((m) => m.ID === status.header.member_id);
}

/**
 * Polls `clientUrl` until the member answers a status call and knows a leader.
 * @param isRunning optional liveness check; when it turns false the wait fails at once.
 * @throws PermanentError `ETCD_START_FAILED` when the process died, TransientError `ETCD_START_TIMEOUT`
 *   when it did not answer in time; both carry the log tail when `logFile` is given.
 */
export async function waitForEtcd(
  clientUrl: string,
  options: {
    timeoutMs?: number;
    logFile?: string;
    isRunning?: () => boolean;
    /**
     * The peer URL the answering member must advertise. Proves the answer comes from the member
     * just started, not from another etcd already listening on the same client URL.
     */
    peerUrl?: string;
  } = {},
): Promise<IStatusResponse> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError = 'no answer yet';
  const logNote = async () => (options.logFile ? `\n--- last lines of ${options.logFile} ---\n${await logTail(options.logFile)}` : '');
  for (;;) {
    if (options.isRunning && !options.isRunning()) {
      throw new PermanentError(`etcd at ${clientUrl} exited before it became ready${await logNote()}`, { code: 'ETCD_START_FAILED', engine: 'etcd' });
    }
    const client = probeClient(clientUrl, 1_000);
    try {
      const status = await client.maintenance.status({ deadline: Date.now() + 1_000 });
      const who = options.peerUrl ? await answeringMember(client, status) : undefined;
      if (options.peerUrl && !who?.peerURLs.some((u) => sameUrl(u, options.peerUrl!))) {
        lastError = `${clientUrl} is answered by another etcd (member ${who?.name || status.header.member_id}, peer URLs ${who?.peerURLs.join(',') ?? 'unknown'})`;
      } else if (status.leader !== '0' && status.leader !== '') {
        return status;
      } else {
        lastError = 'member answers but has no leader yet';
      }
    } catch (error) {
      lastError = (error as Error).message;
    } finally {
      client.close();
    }
    if (Date.now() >= deadline) {
      throw new TransientError(`etcd at ${clientUrl} did not become ready in time (last: ${lastError})${await logNote()}`, {
        code: 'ETCD_START_TIMEOUT', engine: 'etcd',
      });
    }
    await sleep(50);
  }
}

/**
 * Starts an etcd member for `dataDir` (detached, logging to a file next to the data dir, pid file
 * written) and waits until it answers. On failure the process is stopped again.
 */
export async function startMember(options: StartMemberOptions): Promise<RunningMember> {
  const dataDir = path.resolve(options.dataDir);
  const logFile = options.logFile ?? memberLogFile(dataDir);
  const pidFile = options.pidFile ?? memberPidFile(dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  await mkdir(path.dirname(logFile), { recursive: true });
  const args = [
    `--name=${options.name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${listenUrl(options.clientUrl)}`,
    `--advertise-client-urls=${options.clientUrl}`,
    `--listen-peer-urls=${listenUrl(options.peerUrl)}`,
    `--initial-advertise-peer-urls=${options.peerUrl}`,
    `--initial-cluster=${options.initialCluster ?? `${options.name}=${options.peerUrl}`}`,
    `--initial-cluster-state=new`,
    `--heartbeat-interval=10`,
    `--election-timeout=100`,
  ];
  if (options.clusterToken) args.push(`--initial-cluster-token=${options.clusterToken}`);
  const binary = options.etcdBinary ?? 'etcd';
  const logFd = openSync(logFile, 'a');
  let exited = false;
  let child;
  try {
    child = spawn(binary, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
  if (spawnError || child.pid === undefined) {
    throw new PermanentError(`cannot start ${binary}: ${spawnError?.message ?? 'no pid'}`, { code: 'MISSING_TOOL', engine: 'etcd', cause: spawnError });
  }
  const pid = child.pid;
  child.once('exit', () => { exited = true; });
  child.unref();
  await writeFile(pidFile, `${pid}\n`);
  const stop = () => stopMember(pidFile);
  try {
    const status = await waitForEtcd(options.clientUrl, {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      logFile,
      isRunning: () => !exited && isAlive(pid),
      peerUrl: options.peerUrl,
    });
    return { pid, name: options.name, clientUrl: options.clientUrl, peerUrl: options.peerUrl, dataDir, logFile, pidFile, status, stop };
  } catch (error) {
    await stop().catch(() => undefined); // the start's own error is the one to report
    throw error;
  }
}

/** What an etcd member runs as: a pid file naming any other program is stale. */
const ETCD_PROGRAMS = ['etcd'];

/** The pid of the live member `pidFile` records; undefined when none runs (a stale pid file included). */
export function memberPid(pidFile: string): Promise<number | undefined> {
  return recordedPid(pidFile, ETCD_PROGRAMS);
}

/**
 * Stops a member started by {@link startMember}: SIGTERM, then SIGKILL after `timeoutMs`.
 * Given a pid file, it only signals the pid when that process is an etcd (a stale pid file whose
 * pid was reused is just removed). Missing pid file or dead process: nothing to do. Idempotent.
 */
export async function stopMember(pidFileOrPid: string | number, options: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof pidFileOrPid === 'number') return stopProcess(pidFileOrPid, timeoutMs);
  return stopRecordedProcess(pidFileOrPid, ETCD_PROGRAMS, { timeoutMs });
}

/** A throwaway single-node etcd, see {@link startLocalEtcd}. */
export interface LocalEtcd {
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
  pid: number;
  /** Stops the process (the directory is left for inspection; delete it yourself). */
  stop(): Promise<void>;
}

/**
 * Starts a single-node etcd on 127.0.0.1 with its data under `dir` (`dir/data`, log `dir/data.etcd.log`),
 * for the demo and the tests. Fast elections (`--heartbeat-interval=10 --election-timeout=100`) make it
 * ready in well under a second.
 */
export async function startLocalEtcd(options: { dir: string; clientPort: number; peerPort: number; name?: string; host?: string }): Promise<LocalEtcd> {
  const host = options.host ?? '127.0.0.1';
  const name = options.name ?? 'local';
  const member = await startMember({
    name,
    dataDir: path.join(options.dir, 'data'),
    clientUrl: `http://${host}:${options.clientPort}`,
    peerUrl: `http://${host}:${options.peerPort}`,
    clusterToken: `local-${name}-${options.clientPort}`,
  });
  return { clientUrl: member.clientUrl, peerUrl: member.peerUrl, dataDir: member.dataDir, logFile: member.logFile, pid: member.pid, stop: member.stop };
}
