/**
 * How a backup goes into a target cluster, and which tables a restore writes:
 *
 * - `refresh`: the target has the backup's topology (for each of its nodes, a backed-up node with
 *   exactly its tokens): each node's SSTables are placed on the node of the same tokens and loaded
 *   with `nodetool refresh` (on 4.x: `nodetool import`ed from the spool). Nothing crosses the
 *   network but the download.
 * - `sstableloader`: any other topology (fewer or more nodes, other tokens, vnodes): every
 *   backed-up node's SSTables are streamed into the target by sstableloader, which sends each
 *   partition to the replicas that own it now. The backed-up nodes are shared out among the
 *   target's hosts, each host streaming its share.
 *
 * `auto` (the default) takes `refresh` when the rings match and `sstableloader` otherwise.
 *
 * A restore works on at most MAX_RESTORE_NODES hosts at once (the restore state machine's limit).
 * `refresh` needs every host of the target; sstableloader streams into every node from any host,
 * so a target on more hosts is loaded from its first MAX_RESTORE_NODES ({@link restoreHosts}),
 * and `auto` streams into such a target even when the rings match.
 */
import type { NodeRef } from '../../core/driver/types';
import { membersOn, nodesByHost } from '../../core/driver/node-ref';
import { MAX_RESTORE_NODES } from '../../core/restore/restore-state';
import { PermanentError } from '../../core/errors';
import { nodeWithTokens, type BackedUpNode } from './backed-up-nodes';
import type { ResolvedNode } from './config';
import type { TableFacts } from './records';
import type { CassandraRestoreTarget } from './restore-target';
import { majorVersion, planNodes, type RingNode } from './ring';

export interface NodePlan {
  target: ResolvedNode;
  source: BackedUpNode;
}

/** The backed-up nodes one target host streams into the cluster. */
export interface LoaderShare {
  /** The target host (a node of {@link nodesByHost}). */
  host: NodeRef;
  sources: BackedUpNode[];
}

/** How the backup goes in, and the target's Cassandra version (the first node's: which commands load it). */
export type RestorePlan =
  | { method: 'refresh'; plans: NodePlan[]; releaseVersion: string }
  | { method: 'sstableloader'; shares: LoaderShare[]; releaseVersion: string };

/**
 * How `nodes` (the backup) go into the target whose ring is `ring`.
 * @throws PermanentError `CASSANDRA_TOPOLOGY_DIFFERS` when `method` is `refresh` and the rings
 *   differ, and planNodes' errors for a target whose config and ring disagree or whose nodes are down.
 */
export function planRestore(target: CassandraRestoreTarget, ring: readonly RingNode[], nodes: readonly BackedUpNode[]): RestorePlan {
  const planned = planNodes(target, ring);
  const plans = planned.map((node) => ({ target: node.config, source: nodeWithTokens(nodes, node.tokens) }));
  const unmatched = plans.filter((p) => !p.source).map((p) => p.target.address);
  const same = unmatched.length === 0 && planned.length === nodes.length;
  const releaseVersion = planned[0]?.releaseVersion ?? '';
  const everyHost = nodesByHost(target.nodes).length <= MAX_RESTORE_NODES;
  if (same && (target.method === 'refresh' || (target.method === 'auto' && everyHost))) return { method: 'refresh', plans: plans as NodePlan[], releaseVersion };
  if (target.method === 'refresh') {
    throw new PermanentError(
      `cassandra: the target's ring is not the backup's (${nodes.length} backed-up nodes, ${planned.length} target nodes; no backed-up node has the tokens of ${unmatched.join(', ') || 'every target node'}): restore with method sstableloader (or auto) to stream into another topology`,
      { code: 'CASSANDRA_TOPOLOGY_DIFFERS', engine: 'cassandra' },
    );
  }
  const hosts = restoreHosts(target);
  const shares = hosts.map((host, h) => ({ host, sources: nodes.filter((_, i) => i % hosts.length === h) }));
  return { method: 'sstableloader', shares, releaseVersion };
}

/**
 * The hosts a restore into `target` works on: every host of its nodes, or for a restore that
 * may stream (`auto`, `sstableloader`) into a target on more than MAX_RESTORE_NODES hosts, the first
 * MAX_RESTORE_NODES of them. A `refresh` restore needs them all (core refuses more than it can run).
 */
export function restoreHosts(target: CassandraRestoreTarget): NodeRef[] {
  const hosts = nodesByHost(target.nodes);
  return target.method === 'refresh' ? hosts : hosts.slice(0, MAX_RESTORE_NODES);
}

/** The plans of the target nodes on `node`'s host. */
export function plansOn(target: CassandraRestoreTarget, plans: readonly NodePlan[], node: NodeRef): NodePlan[] {
  const here = new Set(membersOn(target.nodes, node).map((n) => n.address));
  return plans.filter((p) => here.has(p.target.address));
}

/** The backed-up nodes `node`'s host streams. */
export function shareOf(shares: readonly LoaderShare[], node: NodeRef): BackedUpNode[] {
  return shares.find((s) => s.host.name === node.name)?.sources ?? [];
}

/** The tables a restore of `nodes` into `target` writes: the keyspaces asked for, `system_auth` only when asked. */
export function restoredTables(target: CassandraRestoreTarget, nodes: readonly BackedUpNode[]): TableFacts[] {
  const tables = nodes[0]?.facts.tables ?? [];
  const missing = (target.keyspaces ?? []).filter((ks) => !tables.some((t) => t.keyspace === ks));
  if (missing.length > 0) throw new PermanentError(`cassandra: the backup holds no keyspace ${missing.join(', ')}`, { code: 'CASSANDRA_NO_SUCH_KEYSPACE', engine: 'cassandra' });
  return tables.filter((t) => (!target.keyspaces || target.keyspaces.includes(t.keyspace)) && (t.keyspace !== 'system_auth' || target.systemAuth));
}

/**
 * Refuses, before anything is downloaded or touched, a plan this host's Cassandra tools
 * (`toolsRelease`, the distribution of `cassandraHome`) cannot carry out: sstableloader must be
 * of the target's major version (it streams in its own version's protocol), and a 4.x target
 * loads in place with `nodetool import`, which tools before 4.0 lack.
 * @throws PermanentError `CASSANDRA_TOOLS_MISMATCH`
 */
export function assertToolsFit(plan: RestorePlan, toolsRelease: string): void {
  const target = majorVersion(plan.releaseVersion);
  const tools = majorVersion(toolsRelease);
  const problem = plan.method === 'sstableloader' && tools !== target
    ? `sstableloader ${toolsRelease} cannot stream into Cassandra ${plan.releaseVersion}`
    : plan.method === 'refresh' && target >= 4 && tools < 4
      ? `nodetool ${toolsRelease} has no \`import\`, which loads SSTables into Cassandra ${plan.releaseVersion}`
      : undefined;
  if (problem) {
    throw new PermanentError(`cassandra: ${problem}: set the target's cassandraHome to a distribution of the target's version on every host`, { code: 'CASSANDRA_TOOLS_MISMATCH', engine: 'cassandra' });
  }
}
