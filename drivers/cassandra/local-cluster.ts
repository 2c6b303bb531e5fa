/**
 * Throwaway Cassandra clusters on this host, for the tests and the demo: node i on 127.0.0.i
 * (Linux answers on all of 127.0.0.0/8 without setup), each in its own directory, one cluster
 * name, the first node the seed. Every node listens on the same storage and native ports (a
 * cluster shares them; the addresses differ), each on its own JMX port.
 *
 * Nodes of a fresh cluster get evenly spaced tokens (tokens.ts) and do not bootstrap: there is
 * nothing to stream, so each joins at once. They still start one after another — the next only
 * once the seed sees the one before Up and Normal, as Cassandra asks of joining nodes. (Starting
 * the nodes after the seed at once, as ccm does, measured 18 s instead of 31 s for three nodes;
 * not done, as 2.1 documents one joining node at a time.)
 */
import path from 'node:path';
import type { HeapSize } from './jvm';
import { startCassandraNode, type RunningCassandraNode } from './node-process';
import type { NodetoolTarget } from './nodetool';
import { waitForUpNormal } from './ring-readiness';
import { evenTokens } from './tokens';

export interface LocalClusterOptions {
  /** Node i lives in `<dir>/node<i>`. */
  dir: string;
  /** The distribution's home (distribution.ts). */
  home: string;
  /** Nodes (default 1), on 127.0.0.1 … 127.0.0.<count>. */
  count?: number;
  /** The storage port, the native port, the Thrift port, then one JMX port per node (core/host/ports.ts `onFreePorts(3 + count)`; {@link clusterPortCount}). */
  ports: readonly number[];
  clusterName?: string;
  /** Data directories per node (`data1` …), several for JBOD (default 1: `data`). */
  dataDirsPerNode?: number;
  /** `num_tokens` random vnodes per node instead of one evenly spaced token each. */
  vnodes?: number;
  heap?: HeapSize;
  /** Per node (default 180 s), and again for the whole ring to agree. */
  readyTimeoutMs?: number;
  /** Called with each node's pid as soon as it runs. */
  onSpawn?: (pid: number) => Promise<void>;
}

export interface LocalCassandraCluster {
  clusterName: string;
  home: string;
  nodes: RunningCassandraNode[];
  /** Every node's address (a client's contact points). */
  contactPoints: string[];
  nativePort: number;
  /** Thrift port of every node (2.1's sstableloader reads the ring through it). */
  rpcPort: number;
  /** nodetool's way to `node`. */
  nodetoolTarget(node: RunningCassandraNode): NodetoolTarget;
  /** Stops every node (the directories are left). */
  stop(): Promise<void>;
}

/** How many ports a cluster of `count` nodes takes: storage, native and Thrift (shared), one JMX port per node. */
export function clusterPortCount(count: number): number {
  return 3 + count;
}

/** The address of node `i` (from 0). */
export function localNodeAddress(i: number): string {
  if (i < 0 || i > 253) throw new RangeError(`no loopback address for node ${i + 1}`);
  return `127.0.0.${i + 1}`;
}

/** Starts the cluster; resolves once every node sees every node Up and Normal. On failure nothing is left running. */
export async function startLocalCassandraCluster(options: LocalClusterOptions): Promise<LocalCassandraCluster> {
  const count = options.count ?? 1;
  const [storagePort, nativePort, rpcPort, ...jmxPorts] = options.ports;
  if (options.ports.length < clusterPortCount(count)) throw new RangeError(`a ${count}-node cluster needs ${clusterPortCount(count)} ports, got ${options.ports.length}`);
  const clusterName = options.clusterName ?? `local-${storagePort}`;
  const addresses = Array.from({ length: count }, (_, i) => localNodeAddress(i));
  const tokens = evenTokens(count);
  const dataDirs = options.dataDirsPerNode ?? 1;
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const nodes: RunningCassandraNode[] = [];
  const targetOf = (node: RunningCassandraNode): NodetoolTarget => ({ home: options.home, host: node.address, jmxPort: node.jmxPort });
  const start = async (i: number) => {
    const dir = path.join(options.dir, `node${i + 1}`);
    const node = await startCassandraNode({
      dir, home: options.home, clusterName, address: addresses[i], seeds: [addresses[0]], storagePort, nativePort, rpcPort, jmxPort: jmxPorts[i],
      dataDirs: dataDirs === 1 ? undefined : Array.from({ length: dataDirs }, (_, d) => path.join(dir, `data${d + 1}`)),
      tokens: options.vnodes ? { numTokens: options.vnodes } : { initialTokens: [tokens[i]] },
      heap: options.heap, readyTimeoutMs, onSpawn: options.onSpawn,
    });
    nodes.push(node);
    return node;
  };
  const stop = async () => { await Promise.all(nodes.map((node) => node.stop())); };
  try {
    const seed = await start(0);
    for (let i = 1; i < count; i += 1) {
      const node = await start(i);
      await waitForUpNormal([targetOf(seed)], [node.address], readyTimeoutMs);
    }
    await waitForUpNormal(nodes.map(targetOf), addresses, readyTimeoutMs);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { clusterName, home: options.home, nodes, contactPoints: addresses, nativePort, rpcPort, nodetoolTarget: targetOf, stop };
}

/**
 * The instance config (or restore target) of a local cluster, as the driver reads it: contact
 * points, the native port, this distribution's nodetool, and each node's JMX port and data dirs.
 */
export function clusterDescription(cluster: LocalCassandraCluster): Record<string, unknown> {
  return {
    contactPoints: cluster.contactPoints, nativePort: cluster.nativePort, cassandraHome: cluster.home,
    nodes: cluster.nodes.map((node) => ({ address: node.address, jmxPort: node.jmxPort, dataDirs: node.dataDirs })),
  };
}

/** A restore target of a local cluster: its description, and the ports sstableloader streams through. */
export function restoreTargetOf(cluster: LocalCassandraCluster): Record<string, unknown> {
  return { ...clusterDescription(cluster), storagePort: cluster.nodes[0].storagePort, thriftPort: cluster.rpcPort };
}
