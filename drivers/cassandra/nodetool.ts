/**
 * nodetool of Cassandra 2.1 against one node's JMX port, run through the same JDK as the node
 * (jvm.ts), with typed answers for what the driver needs: the ring and token ownership, flush,
 * snapshots by tag, refresh (loading SSTables placed in a table's directory), and what a table
 * holds on disk and in its memtable (cfstats).
 */
import { PermanentError } from '../../core/errors';
import type { ClusterDescription, ResolvedNode } from './config';
import { cassandraHome } from './distribution';
import { runJavaTool } from './java-tool';
import { nodetoolJvmArgs } from './jvm';
import { NODETOOL_ERRORS } from './nodetool-errors';
import {
  parseDescribeRing, parseListSnapshots, parseRing, parseStatus, parseTableStats, tokensByNode,
  type RingEntry, type SnapshotEntry, type StatusNode, type TableStats, type TokenRange,
} from './nodetool-output';

/** A node's JMX endpoint, and the distribution whose nodetool talks to it. */
export interface NodetoolTarget {
  /** The distribution's home (distribution.ts). */
  home: string;
  host: string;
  jmxPort: number;
}

/** nodetool's way to `node` of the cluster `config` describes. */
export function nodetoolTarget(config: ClusterDescription, node: ResolvedNode): NodetoolTarget {
  return { home: config.cassandraHome ?? cassandraHome(), host: node.address, jmxPort: node.jmxPort };
}

export interface NodetoolRunOptions {
  /** Stops it after this long (default 120 s: a flush of a big table takes its time). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `nodetool <args>` against `target`; resolves with what it printed on stdout.
 * @throws PermanentError `MISSING_TOOL` without java; TransientError `CASSANDRA_JMX_UNAVAILABLE`
 *   when the node does not answer; PermanentError `CASSANDRA_NO_SUCH_KEYSPACE`,
 *   `CASSANDRA_NO_SUCH_TABLE`, `CASSANDRA_SNAPSHOT_EXISTS` or `CASSANDRA_NODETOOL_FAILED`.
 */
export async function nodetool(target: NodetoolTarget, args: readonly string[], options: NodetoolRunOptions = {}): Promise<string> {
  const argv = nodetoolJvmArgs(target.home, { host: target.host, port: target.jmxPort }, args);
  return runJavaTool('nodetool', argv, NODETOOL_ERRORS, { what: `nodetool ${args.join(' ')} on ${target.host}:${target.jmxPort}`, timeoutMs: options.timeoutMs ?? 120_000, signal: options.signal });
}

/** A snapshot tag nodetool takes as one argument and Cassandra as a directory name. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** @throws PermanentError `CASSANDRA_INVALID_SNAPSHOT_TAG` for a tag that is not a plain directory name. */
function checkTag(tag: string): string {
  if (!TAG.test(tag) || tag.includes('..')) {
    throw new PermanentError(`invalid snapshot tag ${JSON.stringify(tag)}: letters, digits, '.', '_' and '-' only`, { code: 'CASSANDRA_INVALID_SNAPSHOT_TAG', engine: 'cassandra' });
  }
  return tag;
}

/** Every node as `target` sees the cluster (for `keyspace`: ownership under its replication). */
export async function nodeStatus(target: NodetoolTarget, keyspace?: string): Promise<StatusNode[]> {
  return parseStatus(await nodetool(target, keyspace ? ['status', keyspace] : ['status']));
}

/** Every token of the ring and its node. */
export async function ring(target: NodetoolTarget): Promise<RingEntry[]> {
  return parseRing(await nodetool(target, ['ring']));
}

/** Each node's tokens (the ranges it owns end at them), by node address. */
export async function tokenOwnership(target: NodetoolTarget): Promise<Map<string, string[]>> {
  return tokensByNode(await ring(target));
}

/** The token ranges of `keyspace` and their replicas. */
export async function describeRing(target: NodetoolTarget, keyspace: string): Promise<TokenRange[]> {
  return parseDescribeRing(await nodetool(target, ['describering', keyspace]));
}

/** Writes the memtables of `keyspace` (all of them: none given) to SSTables; `tables` narrows it. */
export async function flush(target: NodetoolTarget, keyspace?: string, tables: readonly string[] = []): Promise<void> {
  await nodetool(target, ['flush', ...(keyspace ? [keyspace, ...tables] : [])]);
}

/**
 * Hard-links the node's SSTables of `keyspaces` (all: none given) under `snapshots/<tag>` of each
 * table directory, in every data directory.
 * @throws PermanentError `CASSANDRA_SNAPSHOT_EXISTS` when the tag is taken.
 */
export async function snapshot(target: NodetoolTarget, tag: string, keyspaces: readonly string[] = []): Promise<void> {
  await nodetool(target, ['snapshot', '-t', checkTag(tag), ...keyspaces]);
}

/** The node's snapshots, a row per table. */
export async function listSnapshots(target: NodetoolTarget): Promise<SnapshotEntry[]> {
  return parseListSnapshots(await nodetool(target, ['listsnapshots']));
}

/** Removes the snapshot `tag` of `keyspaces` (all: none given); a tag that does not exist is nothing to do. */
export async function clearSnapshot(target: NodetoolTarget, tag: string, keyspaces: readonly string[] = []): Promise<void> {
  await nodetool(target, ['clearsnapshot', '-t', checkTag(tag), ...keyspaces]);
}

/**
 * The SSTable and memtable counts of `tables` (`ks.table` each) on the node: `cfstats`, which 2.1
 * to 4.x (beside `tablestats`, its newer name) all have.
 * @throws PermanentError `CASSANDRA_NODETOOL_FAILED` for a table the node does not have.
 */
export async function tableStats(target: NodetoolTarget, tables: readonly string[]): Promise<TableStats[]> {
  return parseTableStats(await nodetool(target, ['cfstats', '--', ...tables]));
}

/** Loads the SSTables placed in the directory of `keyspace.table` without a restart. */
export async function refresh(target: NodetoolTarget, keyspace: string, table: string): Promise<void> {
  await nodetool(target, ['refresh', keyspace, table]);
}

/**
 * nodetool's arguments that import the SSTables of `dir` into `keyspace.table` on 4.x (`refresh`'s
 * replacement): copied, not moved (the directory is ours), each verified and given a fresh generation by the node.
 */
export function importArgs(keyspace: string, table: string, dir: string): string[] {
  return ['import', '--copy-data', '--', keyspace, table, dir];
}

/** Imports the SSTables of `dir` (any generations; the node reads it) into `keyspace.table` (4.x). */
export async function importSSTables(target: NodetoolTarget, keyspace: string, table: string, dir: string): Promise<void> {
  await nodetool(target, importArgs(keyspace, table, dir), { timeoutMs: 3_600_000 });
}
