/**
 * A ZooKeeper server as a process on this host (core/host/server-process.ts): its `zoo.cfg` and
 * `myid`, its java command line, and the readiness probe (`srvr` answers with a serving mode).
 * Used by the restore (members it starts), the demo and the tests (throwaway servers).
 * Files of a member sit next to its data dir: `<dataDir>.zoo.cfg`, `.zookeeper.log`, `.zookeeper.pid`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recordedPid, stopRecordedProcess } from '../../core/host/processes';
import { startServerProcess } from '../../core/host/server-process';
import { serverConf, serverStatus, type ServerStatus } from './four-letter';

/** The jar Debian's `zookeeper`/`libzookeeper-java` install; its manifest's Class-Path names the rest. */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const SLF4J_JAR = '/usr/share/java/slf4j-simple.jar';
/** The servlet API the AdminServer (Jetty) needs; Debian's zookeeper.jar does not name it. */
const SERVLET_API_JAR = '/usr/share/java/servlet-api.jar';
/** The server's main class: an ensemble member, or standalone when the config lists no servers. */
const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

/** The commands the driver asks a server (backup: which member, where its files are; restore: is it serving). */
export const FOUR_LETTER_WORDS = 'srvr,mntr,conf,ruok,stat';

/** One member of an ensemble, as every member's `zoo.cfg` lists it (`server.<id>=host:quorumPort:electionPort`). */
export interface EnsembleMember {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
}

export interface MemberOptions {
  /** `myid` (1..255); for a standalone server any id. */
  id: number;
  dataDir: string;
  /** Where the transaction logs go; defaults to `dataDir`. */
  dataLogDir?: string;
  host: string;
  clientPort: number;
  /** Every member of the ensemble, this one included; empty or absent = standalone. */
  ensemble?: readonly EnsembleMember[];
  /** Transactions between snapshots (ZooKeeper's default 100 000; 2 is its minimum). */
  snapCount?: number;
  /** How long to wait for the server to serve (default 60 s). */
  readyTimeoutMs?: number;
  /** Runs its AdminServer on this port (on `host`); absent: no AdminServer. */
  adminPort?: number;
  /**
   * Java heap (default 256 MB). The server keeps its last 500 committed proposals in memory
   * (commitLogCount, which it refuses to lower), so nodes of hundreds of KB need more.
   */
  heapMb?: number;
  /** The largest record (a node's data, a transaction) it reads or takes, in bytes: its `jute.maxbuffer` (default ZooKeeper's, 1 MiB − 1). */
  juteMaxBuffer?: number;
  /** Called with its pid as soon as it runs (core/host/server-process.ts). */
  onSpawn?: (pid: number) => Promise<void>;
}

export interface RunningZooKeeper {
  pid: number;
  address: { host: string; port: number };
  dataDir: string;
  dataLogDir: string;
  configFile: string;
  logFile: string;
  pidFile: string;
  /** `srvr` when it first served. */
  status: ServerStatus;
  stop(): Promise<void>;
}

/** A java process is told apart from other java processes by its config file argument. */
const PROGRAMS = ['java'];
const STOP_TIMEOUT_MS = 15_000;
/** Short ticks: an ensemble elects in a second or two; sessions may still last 40 ticks. */
const TICK_MS = 200;

export function memberFiles(dataDir: string): { configFile: string; logFile: string; pidFile: string } {
  const base = path.resolve(dataDir);
  return { configFile: `${base}.zoo.cfg`, logFile: `${base}.zookeeper.log`, pidFile: `${base}.zookeeper.pid` };
}

/** The `zoo.cfg` of a member. @throws Error when a value would add or escape a line */
export function memberConfig(options: MemberOptions): string {
  const dataDir = path.resolve(options.dataDir);
  const lines = [
    `tickTime=${TICK_MS}`,
    'initLimit=50',
    'syncLimit=25',
    `dataDir=${dataDir}`,
    `dataLogDir=${path.resolve(options.dataLogDir ?? dataDir)}`,
    `clientPort=${options.clientPort}`,
    `clientPortAddress=${options.host}`,
    ...(options.adminPort === undefined ? ['admin.enableServer=false'] : ['admin.enableServer=true', `admin.serverAddress=${options.host}`, `admin.serverPort=${options.adminPort}`]),
    `4lw.commands.whitelist=${FOUR_LETTER_WORDS}`,
    // TTL nodes exist only where this is on; a restore target must allow what the source had.
    'extendedTypesEnabled=true',
    // Hourly, keeping 3 snapshots and the logs they need: a restored ensemble's disks do not fill.
    'autopurge.purgeInterval=1',
    'autopurge.snapRetainCount=3',
    `snapCount=${options.snapCount ?? 100_000}`,
    'maxSessionTimeout=60000',
  ];
  for (const member of options.ensemble ?? []) {
    lines.push(`server.${member.id}=${member.host}:${member.quorumPort}:${member.electionPort}`);
  }
  const unsafe = lines.find((line) => /[\u0000-\u001f\u007f\\]/.test(line));
  if (unsafe) throw new Error(`refusing to write a zoo.cfg line with a control character or backslash: ${JSON.stringify(unsafe)}`);
  return `${lines.join('\n')}\n`;
}

/** The java command line of a member. */
export function memberArgv(configFile: string, options: { adminServer?: boolean; heapMb?: number; juteMaxBuffer?: number } = {}): string[] {
  const { adminServer = false, heapMb = 256, juteMaxBuffer } = options;
  return [
    `-Xmx${heapMb}m`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    '-Dzookeeper.jmx.log4j.disable=true',
    ...(juteMaxBuffer === undefined ? [] : [`-Djute.maxbuffer=${juteMaxBuffer}`]),
    '-cp', [ZOOKEEPER_JAR, SLF4J_JAR, ...(adminServer ? [SERVLET_API_JAR] : [])].join(':'), MAIN_CLASS, configFile,
  ];
}

/** A member that exited on a record larger than its `jute.maxbuffer` (files of a source that ran with a larger one): what to do. */
function explainMemberExit(logTail: string): string | undefined {
  const length = /Unreasonable length = (\d+)/.exec(logTail)?.[1];
  if (length === undefined) return undefined;
  return `its files hold a record of ${length} bytes, more than its jute.maxbuffer allows (the source must run with a larger one): set juteMaxBuffer (bytes) on the target's members, as large as the source's`;
}

/** Ready once it serves, and only if the server answering is this one (its dataDir), not another on the same port. */
async function probe(address: { host: string; port: number }, ensemble: boolean, snapshotDir: string): Promise<ServerStatus> {
  const status = await serverStatus(address, 2_000);
  const serving = ensemble ? status.mode === 'leader' || status.mode === 'follower' || status.mode === 'observer' : status.mode === 'standalone';
  if (!serving) throw new Error(`mode ${status.mode}`);
  const conf = await serverConf(address, 2_000);
  if (conf.dataDir !== snapshotDir) throw new Error(`${address.host}:${address.port} is answered by another ZooKeeper (dataDir ${conf.dataDir})`);
  return status;
}

/**
 * Writes the member's config and `myid` and starts it; resolves once it serves (in an ensemble:
 * once it has joined a quorum, so start the other members concurrently).
 */
export async function startZooKeeperMember(options: MemberOptions): Promise<RunningZooKeeper> {
  const dataDir = path.resolve(options.dataDir);
  const dataLogDir = path.resolve(options.dataLogDir ?? dataDir);
  const { configFile, logFile, pidFile } = memberFiles(dataDir);
  await mkdir(dataDir, { recursive: true });
  await mkdir(dataLogDir, { recursive: true });
  await writeFile(configFile, memberConfig(options));
  await writeFile(path.join(dataDir, 'myid'), `${options.id}\n`);
  const address = { host: options.host, port: options.clientPort };
  const ensemble = (options.ensemble?.length ?? 0) > 0;
  const server = await startServerProcess({
    engine: 'zookeeper',
    codePrefix: 'ZK',
    what: `ZooKeeper at ${options.host}:${options.clientPort}`,
    command: 'java',
    args: memberArgv(configFile, { adminServer: options.adminPort !== undefined, heapMb: options.heapMb, juteMaxBuffer: options.juteMaxBuffer }),
    explainExit: explainMemberExit,
    logFile,
    pidFile,
    onSpawn: options.onSpawn,
    identity: { programs: PROGRAMS, argument: configFile },
    probe: () => probe(address, ensemble, path.join(dataDir, 'version-2')),
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    pollMs: 100,
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });
  return { pid: server.pid, address, dataDir, dataLogDir, configFile, logFile, pidFile, status: server.ready, stop: server.stop };
}

/** The pid of the ZooKeeper running with `dataDir`'s config, if one does. */
export function memberPid(dataDir: string): Promise<number | undefined> {
  const { pidFile, configFile } = memberFiles(dataDir);
  return recordedPid(pidFile, PROGRAMS, configFile);
}

/** Stops the ZooKeeper running with `dataDir`'s config (SIGTERM, then SIGKILL). Nothing running: nothing to do. */
export function stopZooKeeperMember(dataDir: string): Promise<void> {
  const { pidFile, configFile } = memberFiles(dataDir);
  return stopRecordedProcess(pidFile, PROGRAMS, { timeoutMs: STOP_TIMEOUT_MS, argument: configFile });
}

/** Throwaway ZooKeeper servers for the demo and the tests: one, or an ensemble on loopback. */
export interface LocalZooKeeper {
  members: RunningZooKeeper[];
  /** `host:port,...` of every member (a client connect string). */
  connectString: string;
  stop(): Promise<void>;
}

/**
 * Starts `count` members (1 = standalone) under `dir` (`dir/zk<id>/data`), on `ports` (three per
 * member: client, quorum, election; from core/host/ports.ts `onFreePorts`).
 */
export async function startLocalZooKeeper(options: { dir: string; ports: readonly number[]; count?: number; host?: string; snapCount?: number; separateLogDir?: boolean; adminPorts?: readonly number[] }): Promise<LocalZooKeeper> {
  const count = options.count ?? 1;
  const host = options.host ?? '127.0.0.1';
  const ensemble: EnsembleMember[] = count === 1 ? [] : Array.from({ length: count }, (_, i) => ({
    id: i + 1, host, quorumPort: options.ports[3 * i + 1], electionPort: options.ports[3 * i + 2],
  }));
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startZooKeeperMember({
    id: i + 1,
    dataDir: path.join(options.dir, `zk${i + 1}`, 'data'),
    dataLogDir: options.separateLogDir ? path.join(options.dir, `zk${i + 1}`, 'txlog') : undefined,
    host,
    clientPort: options.ports[3 * i],
    ensemble,
    snapCount: options.snapCount,
    adminPort: options.adminPorts?.[i],
  })));
  const members = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => { await Promise.all(members.map((m) => m.stop())); };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { members, connectString: members.map((m) => `${m.address.host}:${m.address.port}`).join(','), stop };
}
