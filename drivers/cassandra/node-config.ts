/**
 * A node's own configuration files, written into its directory: `cassandra.yaml` (the keys of
 * Cassandra 2.1) and a logback configuration that logs to stdout (which the process start sends
 * to the node's log file). Values are written as JSON, which YAML reads as it is, so no value can
 * break out of its line.
 */

/** How a node gets its tokens. */
export type NodeTokens =
  /** Its own tokens (`initial_token`), e.g. evenly spaced ones from tokens.ts: a fresh node then joins at once, nothing to stream. */
  | { initialTokens: readonly string[] }
  /** `num_tokens` random vnodes. */
  | { numTokens: number };

export interface NodeConfig {
  clusterName: string;
  /** listen, rpc (native) and broadcast address, e.g. `127.0.0.2`. */
  address: string;
  /** Addresses of the seed nodes (the first node of a local cluster). */
  seeds: readonly string[];
  /** Inter-node port: the same on every node of a cluster. */
  storagePort: number;
  /** CQL native protocol port. */
  nativePort: number;
  /** Thrift port (`rpc_port`): 2.1's sstableloader reads the ring through it. */
  rpcPort: number;
  /** `data_file_directories`: several for JBOD. */
  dataDirs: readonly string[];
  commitlogDir: string;
  savedCachesDir: string;
  tokens: NodeTokens;
  /**
   * Stream its ranges from the others when it joins (`auto_bootstrap`). A node of a fresh cluster
   * has nothing to stream: false, and it joins without Cassandra's bootstrap waits.
   */
  bootstrap: boolean;
}

/** The `cassandra.yaml` of a node. */
export function cassandraYaml(config: NodeConfig): string {
  const tokens = 'initialTokens' in config.tokens
    ? { num_tokens: config.tokens.initialTokens.length, initial_token: config.tokens.initialTokens.join(',') }
    : { num_tokens: config.tokens.numTokens };
  const settings: Record<string, unknown> = {
    cluster_name: config.clusterName,
    ...tokens,
    partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
    auto_bootstrap: config.bootstrap,
    data_file_directories: config.dataDirs,
    commitlog_directory: config.commitlogDir,
    saved_caches_directory: config.savedCachesDir,
    commitlog_sync: 'periodic',
    commitlog_sync_period_in_ms: 10_000,
    // Small segments: a test node's commit log takes 8 MB a segment, not 32.
    commitlog_segment_size_in_mb: 8,
    seed_provider: [{ class_name: 'org.apache.cassandra.locator.SimpleSeedProvider', parameters: [{ seeds: config.seeds.join(',') }] }],
    listen_address: config.address,
    rpc_address: config.address,
    storage_port: config.storagePort,
    native_transport_port: config.nativePort,
    start_native_transport: true,
    // Thrift on: cassandra-driver speaks the native protocol, but 2.1's sstableloader reads the ring over Thrift.
    start_rpc: true,
    rpc_port: config.rpcPort,
    endpoint_snitch: 'SimpleSnitch',
    // mmap'ed reads need the un-mmaper JDK 17 no longer offers.
    disk_access_mode: 'standard',
    // A snapshot before TRUNCATE and DROP, as in production.
    auto_snapshot: true,
    incremental_backups: false,
    // Few threads and small caches: several nodes share a 2-core machine.
    concurrent_reads: 8,
    concurrent_writes: 8,
    concurrent_counter_writes: 8,
    key_cache_size_in_mb: 8,
    // A busy machine stalls nodes for seconds: do not take that for a dead node or a failed request.
    phi_convict_threshold: 12,
    read_request_timeout_in_ms: 10_000,
    range_request_timeout_in_ms: 20_000,
    write_request_timeout_in_ms: 10_000,
    counter_write_request_timeout_in_ms: 10_000,
    request_timeout_in_ms: 20_000,
  };
  return `${Object.entries(settings).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join('\n')}\n`;
}

/** Logback: INFO and above to stdout (the node's log file), no rescans of the file. */
export const LOGBACK_XML = `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level %date{ISO8601} [%thread] %logger{0} %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT" /></root>
</configuration>
`;
