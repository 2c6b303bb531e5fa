/**
 * Which target node restores which backed-up node, and which tables a restore writes. The target
 * must have the backup's topology: for each of its nodes, a backed-up node with exactly its tokens.
 */
import type { NodeRef } from '../../core/driver/types';
import { membersOn } from '../../core/driver/node-ref';
import { PermanentError } from '../../core/errors';
import { nodeWithTokens, type BackedUpNode } from './backed-up-nodes';
import { configNode, type ResolvedNode } from './config';
import type { TableFacts } from './records';
import type { CassandraRestoreTarget } from './restore-target';
import { planNodes, type RingNode } from './ring';

export interface NodePlan {
  target: ResolvedNode;
  source: BackedUpNode;
}

/**
 * Each node of the target's ring with the backed-up node of the same tokens.
 * @throws PermanentError `CASSANDRA_TOPOLOGY_DIFFERS` when the rings differ (another number of
 *   nodes, other tokens), and planNodes' errors for a target whose config and ring disagree.
 */
export function matchTopology(target: CassandraRestoreTarget, ring: readonly RingNode[], nodes: readonly BackedUpNode[]): NodePlan[] {
  const planned = planNodes(target, ring);
  const plans = planned.map((node) => ({ target: node.config, source: nodeWithTokens(nodes, node.tokens) }));
  const unmatched = plans.filter((p) => !p.source).map((p) => p.target.address);
  if (unmatched.length > 0 || planned.length !== nodes.length) {
    throw new PermanentError(
      `cassandra: the target's ring is not the backup's (${nodes.length} backed-up nodes, ${planned.length} target nodes; no backed-up node has the tokens of ${unmatched.join(', ') || 'every target node'}): a restore to another topology (sstableloader) is not built yet`,
      { code: 'CASSANDRA_TOPOLOGY_DIFFERS', engine: 'cassandra' },
    );
  }
  return plans as NodePlan[];
}

/** The plans of the target nodes on `node`'s host. */
export function plansOn(target: CassandraRestoreTarget, plans: readonly NodePlan[], node: NodeRef): NodePlan[] {
  const here = new Set(membersOn(target.nodes, node).map((n) => n.address));
  return plans.filter((p) => here.has(p.target.address));
}

/** The target's nodes with their defaults. */
export function targetNodesOf(target: CassandraRestoreTarget): ResolvedNode[] {
  return target.nodes.map((n) => configNode(target, n.address)!);
}

/** The tables a restore of `nodes` into `target` writes: the keyspaces asked for, `system_auth` only when asked. */
export function restoredTables(target: CassandraRestoreTarget, nodes: readonly BackedUpNode[]): TableFacts[] {
  const tables = nodes[0]?.facts.tables ?? [];
  const missing = (target.keyspaces ?? []).filter((ks) => !tables.some((t) => t.keyspace === ks));
  if (missing.length > 0) throw new PermanentError(`cassandra: the backup holds no keyspace ${missing.join(', ')}`, { code: 'CASSANDRA_NO_SUCH_KEYSPACE', engine: 'cassandra' });
  return tables.filter((t) => (!target.keyspaces || target.keyspaces.includes(t.keyspace)) && (t.keyspace !== 'system_auth' || target.systemAuth));
}
