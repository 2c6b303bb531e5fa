/**
 * One Cassandra node as a process on this host (core/host/server-process.ts): its directory with
 * its own `cassandra.yaml` and logback file, its java command line (jvm.ts), its log file and pid
 * file, and its readiness probe (a CQL query answered by this node: local-node.ts). Used by the
 * test harness and the demo (throwaway nodes), and by the restore to come (nodes it starts).
 *
 * A node's directory: `cassandra.yaml`, `logback.xml`, `cassandra.log`, `cassandra.pid`,
 * `data/` (unless other data dirs are given), `commitlog/`, `saved_caches/`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recordedPid, stopRecordedProcess } from '../../core/host/processes';
import { startServerProcess } from '../../core/host/server-process';
import { configArgument, daemonJvmArgs, type HeapSize } from './jvm';
import { readLocalNode, type LocalNodeInfo } from './local-node';
import { cassandraYaml, LOGBACK_XML, type NodeConfig, type NodeTokens } from './node-config';

export interface CassandraNodeOptions {
  /** The node's directory (created). */
  dir: string;
  /** The distribution's home (distribution.ts). */
  home: string;
  clusterName: string;
  /** listen, native and JMX address, e.g. `127.0.0.2`. */
  address: string;
  seeds: readonly string[];
  storagePort: number;
  nativePort: number;
  /** Thrift port (sstableloader's on 2.1). */
  rpcPort: number;
  /** nodetool's port, bound on `address` only. */
  jmxPort: number;
  /** `data_file_directories` (created); default `<dir>/data`. Several for JBOD. */
  dataDirs?: readonly string[];
  tokens: NodeTokens;
  /** Stream its ranges when it joins (a node added to a cluster with data); default false. */
  bootstrap?: boolean;
  heap?: HeapSize;
  /** How long to wait for it to answer CQL (default 180 s: a busy 2-core machine starts a node in 5–20 s). */
  readyTimeoutMs?: number;
  /** Called with its pid as soon as it runs (core/host/server-process.ts). */
  onSpawn?: (pid: number) => Promise<void>;
}

export interface RunningCassandraNode {
  pid: number;
  address: string;
  nativePort: number;
  storagePort: number;
  rpcPort: number;
  jmxPort: number;
  dir: string;
  dataDirs: string[];
  commitlogDir: string;
  configFile: string;
  logFile: string;
  pidFile: string;
  /** What it said about itself when it first answered. */
  local: LocalNodeInfo;
  /** Stops it (SIGTERM, then SIGKILL) and removes its pid file. */
  stop(): Promise<void>;
}

const PROGRAMS = ['java'];
/** A node flushes nothing on SIGTERM in 2.1 (its commit log is replayed at the next start), but drains connections. */
const STOP_TIMEOUT_MS = 20_000;

/** The files of the node whose directory is `dir`. */
export function nodeFiles(dir: string): { configFile: string; logbackFile: string; logFile: string; pidFile: string } {
  const base = path.resolve(dir);
  return {
    configFile: path.join(base, 'cassandra.yaml'),
    logbackFile: path.join(base, 'logback.xml'),
    logFile: path.join(base, 'cassandra.log'),
    pidFile: path.join(base, 'cassandra.pid'),
  };
}

/**
 * Writes the node's configuration and starts it; resolves once it answers CQL as itself.
 * @throws PermanentError `MISSING_TOOL` without java or the distribution, `CASSANDRA_START_FAILED`
 *   when it exits first; TransientError `CASSANDRA_START_TIMEOUT` when it does not answer in time
 *   (both with its log's last lines; it is not left running).
 */
export async function startCassandraNode(options: CassandraNodeOptions): Promise<RunningCassandraNode> {
  const dir = path.resolve(options.dir);
  const files = nodeFiles(dir);
  const dataDirs = (options.dataDirs ?? [path.join(dir, 'data')]).map((d) => path.resolve(d));
  const commitlogDir = path.join(dir, 'commitlog');
  const savedCachesDir = path.join(dir, 'saved_caches');
  for (const d of [dir, ...dataDirs, commitlogDir, savedCachesDir]) await mkdir(d, { recursive: true });
  const config: NodeConfig = {
    clusterName: options.clusterName, address: options.address, seeds: options.seeds, storagePort: options.storagePort,
    nativePort: options.nativePort, rpcPort: options.rpcPort, dataDirs, commitlogDir, savedCachesDir, tokens: options.tokens, bootstrap: options.bootstrap ?? false,
  };
  await writeFile(files.configFile, cassandraYaml(config));
  await writeFile(files.logbackFile, LOGBACK_XML);
  const args = daemonJvmArgs({
    home: options.home, configFile: files.configFile, logbackFile: files.logbackFile, nodeDir: dir,
    jmx: { host: options.address, port: options.jmxPort }, heap: options.heap,
  });
  const server = await startServerProcess({
    engine: 'cassandra',
    codePrefix: 'CASSANDRA',
    what: `Cassandra node ${options.address}:${options.nativePort}`,
    command: 'java',
    args,
    logFile: files.logFile,
    pidFile: files.pidFile,
    onSpawn: options.onSpawn,
    identity: { programs: PROGRAMS, argument: configArgument(files.configFile) },
    probe: () => readLocalNode(options.address, options.nativePort, {
      clusterName: options.clusterName, tokens: 'initialTokens' in options.tokens ? options.tokens.initialTokens : undefined,
    }),
    readyTimeoutMs: options.readyTimeoutMs ?? 180_000,
    pollMs: 250,
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });
  return {
    pid: server.pid, address: options.address, nativePort: options.nativePort, storagePort: options.storagePort, rpcPort: options.rpcPort, jmxPort: options.jmxPort,
    dir, dataDirs, commitlogDir, configFile: files.configFile, logFile: files.logFile, pidFile: files.pidFile, local: server.ready, stop: server.stop,
  };
}

/** The pid of the node running with `dir`'s configuration, if one does. */
export function cassandraNodePid(dir: string): Promise<number | undefined> {
  const { pidFile, configFile } = nodeFiles(dir);
  return recordedPid(pidFile, PROGRAMS, configArgument(configFile));
}

/** Stops the node running with `dir`'s configuration (SIGTERM, then SIGKILL), by its recorded pid only. Nothing running: nothing to do. */
export function stopCassandraNode(dir: string): Promise<void> {
  const { pidFile, configFile } = nodeFiles(dir);
  return stopRecordedProcess(pidFile, PROGRAMS, { timeoutMs: STOP_TIMEOUT_MS, argument: configArgument(configFile) });
}
