/**
 * The java command lines of Cassandra 2.1 on JDK 17: a node (`CassandraDaemon` launched directly,
 * as its bin scripts pass GC flags JDK 17 removed) and nodetool. Cassandra 2.1 measures its
 * memtables with jamm; without jamm's agent (which JDK 17 refuses) jamm reflects into java.base,
 * so the node needs `--add-opens` for those packages.
 */
import { cassandraClasspath } from './distribution';

/** The java.base packages jamm and Cassandra 2.1 reach into by reflection. */
const OPENED_PACKAGES = [
  'java.io', 'java.lang', 'java.lang.ref', 'java.lang.reflect', 'java.math', 'java.net', 'java.nio', 'java.nio.charset',
  'java.security', 'java.text', 'java.util', 'java.util.concurrent', 'java.util.concurrent.atomic', 'java.util.concurrent.locks',
  'jdk.internal.misc', 'jdk.internal.ref', 'sun.nio.ch',
];

/** The main class of a node. */
export const DAEMON_CLASS = 'org.apache.cassandra.service.CassandraDaemon';
/** The main class of nodetool. */
export const NODETOOL_CLASS = 'org.apache.cassandra.tools.NodeTool';
/** The main class of sstableloader. */
export const LOADER_CLASS = 'org.apache.cassandra.tools.BulkLoader';

/** A node's heap (MB). Small by default: a 3-node test cluster shares a 2-core machine. */
export interface HeapSize {
  initialMb: number;
  maxMb: number;
}

export const DEFAULT_HEAP: HeapSize = { initialMb: 256, maxMb: 512 };

export interface DaemonJvmOptions {
  /** The distribution's home (distribution.ts). */
  home: string;
  /** The node's cassandra.yaml; its `-Dcassandra.config` argument also tells the node's process apart from others. */
  configFile: string;
  /** The node's logback configuration. */
  logbackFile: string;
  /** Where Cassandra puts files it is not told about (`cassandra.storagedir`): the node's directory. */
  nodeDir: string;
  /** Its JMX (nodetool) endpoint: bound to the node's own address only. */
  jmx: { host: string; port: number };
  heap?: HeapSize;
}

/** `-Dcassandra.config=<url>`: the argument only this node's process has. */
export function configArgument(configFile: string): string {
  return `-Dcassandra.config=file://${configFile}`;
}

/** argv (after `java`) of a node. */
export function daemonJvmArgs(options: DaemonJvmOptions): string[] {
  const heap = options.heap ?? DEFAULT_HEAP;
  const { host, port } = options.jmx;
  return [
    ...OPENED_PACKAGES.map((pkg) => `--add-opens=java.base/${pkg}=ALL-UNNAMED`),
    `-Xms${heap.initialMb}m`, `-Xmx${heap.maxMb}m`,
    // One GC thread and the quick compiler: a node starts in less CPU on a small, busy machine.
    '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    '-Djava.net.preferIPv4Stack=true',
    '-Dcassandra.boot_without_jna=true',
    '-Dcassandra-foreground=yes',
    configArgument(options.configFile),
    `-Dlogback.configurationFile=${options.logbackFile}`,
    `-Dcassandra.storagedir=${options.nodeDir}`,
    `-Dcassandra.logdir=${options.nodeDir}`,
    `-Dcom.sun.management.jmxremote.port=${port}`,
    `-Dcom.sun.management.jmxremote.rmi.port=${port}`,
    `-Dcom.sun.management.jmxremote.host=${host}`,
    `-Djava.rmi.server.hostname=${host}`,
    '-Dcom.sun.management.jmxremote.ssl=false',
    '-Dcom.sun.management.jmxremote.authenticate=false',
    '-cp', cassandraClasspath(options.home),
    DAEMON_CLASS,
  ];
}

/**
 * argv (after `java`) of nodetool against `jmx`. JDK 17 refuses the RMI URL nodetool 2.1 builds
 * unless `com.sun.jndi.rmiURLParsing=legacy`; logback-tools.xml keeps its own logging quiet.
 */
export function nodetoolJvmArgs(home: string, jmx: { host: string; port: number }, args: readonly string[]): string[] {
  return [
    '-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    '-Dcom.sun.jndi.rmiURLParsing=legacy',
    `-Dlogback.configurationFile=${home}/conf/logback-tools.xml`,
    '-cp', cassandraClasspath(home),
    NODETOOL_CLASS, '-h', jmx.host, '-p', String(jmx.port),
    ...args,
  ];
}

/**
 * argv (after `java`) of sstableloader. 2.1's takes the cluster's inter-node port only as the
 * `cassandra.storage_port` property (3.x and later also as `--storage-port`).
 */
export function loaderJvmArgs(home: string, storagePort: number, args: readonly string[]): string[] {
  // The full JIT: a loader may stream for hours.
  return [
    '-Xmx256m', '-XX:+UseSerialGC',
    `-Dcassandra.storage_port=${storagePort}`,
    `-Dlogback.configurationFile=${home}/conf/logback-tools.xml`,
    '-cp', cassandraClasspath(home),
    LOADER_CLASS,
    ...args,
  ];
}
