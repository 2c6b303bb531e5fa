/**
 * Running etcd members as plain processes: the restored member after `snapshot restore`, and the
 * throwaway single-node etcd the demo and the tests use. A member runs detached (it outlives the
 * step that started it), logs to `<dataDir>.etcd.log` and records its pid in `<dataDir>.etcd.pid`,
 * both next to the data dir so they never pollute it.
 */
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { noop } from 'cockatiel';
import { Etcd3, type IMember, type IStatusResponse } from 'etcd3';
import { TransientError } from '../../core/errors';
import { logTailNote } from '../../core/host/log-tail';
import { recordedPid, stopProcess, stopRecordedProcess } from '../../core/host/processes';
import { waitUntilReady } from '../../core/host/readiness';
import { startServerProcess } from '../../core/host/server-process';

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
  /**
   * Elections in milliseconds (`--heartbeat-interval=10 --election-timeout=100`: ready in well under
   * a second) instead of etcd's own timings (100 and 1 000 ms): for members that only live for a
   * test, a demo or a drill. A member that is to serve keeps etcd's, which a loaded host or a real
   * network between members needs.
   */
  fastElections?: boolean;
  /** Defaults to `<dataDir>.etcd.log`. */
  logFile?: string;
  /** Defaults to `<dataDir>.etcd.pid`. */
  pidFile?: string;
  /** How long to wait for the member to answer (default 30 s). */
  readyTimeoutMs?: number;
  /** The etcd executable (default `etcd` on PATH). */
  etcdBinary?: string;
  /** Called with its pid once it runs, before it is ready (core/host/server-process.ts). */
  onSpawn?: (pid: number) => Promise<void>;
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

/** What an etcd member runs as: a pid file naming any other program is stale. */
const ETCD_PROGRAMS = ['etcd'];

/** How long a member gets to stop after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

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
 * One readiness probe: the member at `clientUrl` answers a status call and knows a leader; with
 * `peerUrl`, it is the member advertising that peer URL (not another etcd already listening on
 * the same client URL).
 * @throws Error saying why it is not ready yet
 */
async function probeMember(clientUrl: string, peerUrl?: string): Promise<IStatusResponse> {
  const client = probeClient(clientUrl, 1_000);
  try {
    const status = await client.maintenance.status({ deadline: Date.now() + 1_000 });
    const who = peerUrl ? await answeringMember(client, status) : undefined;
    if (peerUrl && !who?.peerURLs.some((u) => sameUrl(u, peerUrl))) {
      throw new Error(`${clientUrl} is answered by another etcd (member ${who?.name || status.header.member_id}, peer URLs ${who?.peerURLs.join(',') ?? 'unknown'})`);
    }
    if (status.leader === '0' || status.leader === '') throw new Error('member answers but has no leader yet');
    return status;
  } finally {
    client.close();
  }
}

/** Pause between readiness probes: a member with fast elections is ready in well under a second. */
const PROBE_POLL_MS = 50;

/**
 * Polls `clientUrl` until the member answers a status call and knows a leader (a member this
 * process did not start: see {@link startMember} for one it starts).
 * @param options.peerUrl the peer URL the answering member must advertise.
 * @throws TransientError `ETCD_START_TIMEOUT` when it did not answer in time, with the log tail when `logFile` is given.
 */
export async function waitForEtcd(clientUrl: string, options: { timeoutMs?: number; logFile?: string; peerUrl?: string } = {}): Promise<IStatusResponse> {
  const outcome = await waitUntilReady(() => probeMember(clientUrl, options.peerUrl), { timeoutMs: options.timeoutMs ?? 30_000, pollMs: PROBE_POLL_MS });
  if (outcome.ready) return outcome.value;
  const note = options.logFile ? await logTailNote(options.logFile) : '';
  throw new TransientError(`etcd at ${clientUrl} did not become ready in time (last: ${outcome.last})${note}`, { code: 'ETCD_START_TIMEOUT', engine: 'etcd' });
}

/**
 * Starts an etcd member for `dataDir` (core/host/server-process.ts: detached, logging to a file
 * next to the data dir, pid file written) and waits until it answers; on failure it is stopped again.
 * @throws PermanentError `ETCD_START_FAILED` when it exits first, TransientError `ETCD_START_TIMEOUT`
 *   when it does not answer in time (both with the log tail), `MISSING_TOOL` without etcd.
 */
export async function startMember(options: StartMemberOptions): Promise<RunningMember> {
  const dataDir = path.resolve(options.dataDir);
  const logFile = options.logFile ?? memberLogFile(dataDir);
  const pidFile = options.pidFile ?? memberPidFile(dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const args = [
    `--name=${options.name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${listenUrl(options.clientUrl)}`,
    `--advertise-client-urls=${options.clientUrl}`,
    `--listen-peer-urls=${listenUrl(options.peerUrl)}`,
    `--initial-advertise-peer-urls=${options.peerUrl}`,
    `--initial-cluster=${options.initialCluster ?? `${options.name}=${options.peerUrl}`}`,
    `--initial-cluster-state=new`,
    ...(options.fastElections ? ['--heartbeat-interval=10', '--election-timeout=100'] : []),
  ];
  if (options.clusterToken) args.push(`--initial-cluster-token=${options.clusterToken}`);
  const server = await startServerProcess({
    engine: 'etcd',
    codePrefix: 'ETCD',
    what: `etcd at ${options.clientUrl}`,
    command: options.etcdBinary ?? 'etcd',
    args,
    logFile,
    pidFile,
    onSpawn: options.onSpawn,
    identity: { programs: ETCD_PROGRAMS },
    probe: () => probeMember(options.clientUrl, options.peerUrl),
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    pollMs: PROBE_POLL_MS,
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });
  return {
    pid: server.pid, name: options.name, clientUrl: options.clientUrl, peerUrl: options.peerUrl, dataDir, logFile, pidFile, status: server.ready, stop: server.stop,
  };
}


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
  const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS;
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
    fastElections: true,
    name,
    dataDir: path.join(options.dir, 'data'),
    clientUrl: `http://${host}:${options.clientPort}`,
    peerUrl: `http://${host}:${options.peerPort}`,
    clusterToken: `local-${name}-${options.clientPort}`,
  });
  return { clientUrl: member.clientUrl, peerUrl: member.peerUrl, dataDir: member.dataDir, logFile: member.logFile, pid: member.pid, stop: member.stop };
}
