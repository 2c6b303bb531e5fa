/**
 * The restored tables a target already has, and whether a restore that is not forced may load
 * into them: each must hold nothing. No rows a read returns, and no deletions either: a table
 * whose rows were all deleted reads as empty, but its tombstones are newer than the backup's
 * rows and would hide them once loaded (the restore would validate nothing, or fail validation,
 * with the target's rows still gone). A read cannot see tombstones; each node's `nodetool
 * cfstats` can: a table that holds nothing has no live SSTable, nothing in its memtable and no
 * flush under way. A forced restore truncates every restored table the target has instead.
 */
import type { Client } from 'cassandra-driver';
import { membersOn } from '../../core/driver/node-ref';
import type { NodeRef } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { configNode } from './config';
import { qualifiedName } from './cql-text';
import { nodetoolTarget, tableStats } from './nodetool';
import type { TableStats } from './nodetool-output';
import type { TableFacts } from './records';
import { restoreHosts } from './restore-plan';
import type { CassandraRestoreTarget } from './restore-target';

export const tableKey = (t: Pick<TableFacts, 'keyspace' | 'table'>) => `${t.keyspace}.${t.table}`;

/** The tables of `tables` the target has. */
export async function existingTables(client: Client, tables: readonly TableFacts[]): Promise<TableFacts[]> {
  const found: TableFacts[] = [];
  for (const table of tables) {
    if (!client.metadata.keyspaces[table.keyspace]) continue;
    if (await client.metadata.getTable(table.keyspace, table.table)) found.push(table);
  }
  return found;
}

/** Of `tables`, those a read finds a row in. */
async function tablesWithRows(client: Client, tables: readonly TableFacts[]): Promise<string[]> {
  const found: string[] = [];
  for (const table of tables) {
    const rows = await client.execute(`SELECT * FROM ${qualifiedName(table.keyspace, table.table)} LIMIT 1`);
    if (rows.rowLength > 0) found.push(tableKey(table));
  }
  return found;
}

const notEmpty = (message: string) => new PermanentError(`cassandra: ${message}; restore with force to truncate them first`, { code: 'TARGET_NOT_EMPTY', engine: 'cassandra' });

/** What a node's stats say a table holds besides rows, or undefined when nothing. */
function held(stats: TableStats): string | undefined {
  if (stats.sstables === 0 && stats.memtableCells === 0 && stats.pendingFlushes === 0) return undefined;
  return [`SSTables ${stats.sstables}`, `memtable cells ${stats.memtableCells}`, ...(stats.pendingFlushes > 0 ? [`flushes under way ${stats.pendingFlushes}`] : [])].join(', ');
}

/**
 * Refuses, before anything is written, to load into `existing` (restored tables the target has)
 * unless each holds nothing: no row (every host reads) and, on each target node of `host`, no
 * SSTable, memtable cell or flush under way (what a table whose rows were deleted still holds).
 * Nodes on hosts the restore does not run on cannot be asked, so a target with such nodes and a
 * table to check is refused too.
 * @throws PermanentError `TARGET_NOT_EMPTY` naming the tables, and for deletions the nodes and what they hold
 */
export async function assertTablesEmpty(target: CassandraRestoreTarget, host: NodeRef, client: Client, existing: readonly TableFacts[]): Promise<void> {
  const withRows = await tablesWithRows(client, existing);
  if (withRows.length > 0) throw notEmpty(`the target's tables ${withRows.join(', ')} hold rows`);
  if (existing.length === 0) return;
  const keys = existing.map(tableKey);
  const reached = new Set(restoreHosts(target).flatMap((h) => membersOn(target.nodes, h)).map((n) => n.address));
  const unreached = target.nodes.filter((n) => !reached.has(n.address)).map((n) => n.address);
  const cannotTell = (why: string) => notEmpty(`cannot tell whether the target's tables ${keys.join(', ')}, which hold no rows a read returns, hold deletions (tombstones) that would hide the restored rows: ${why}`);
  if (unreached.length > 0) throw cannotTell(`nodes ${unreached.join(', ')} are on hosts this restore does not run on (it runs on at most ${restoreHosts(target).length}), whose nodetool it cannot ask`);
  const holding = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const member of membersOn(target.nodes, host)) {
    const node = configNode(target, member.address);
    if (!node) continue;
    const jmx = nodetoolTarget(target, node);
    const stats = await tableStats(jmx, keys).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 'CASSANDRA_JMX_UNAVAILABLE') throw error;
      throw cannotTell(`node ${node.address}'s JMX (port ${jmx.jmxPort}), which nodetool asks, does not answer from this host (${(error as Error).message}): run the restore where each node's JMX answers (by default only on the node's own host: give each node its host), or restore with force`);
    });
    for (const key of keys) {
      const found = stats.find((s) => tableKey(s) === key);
      const what = found ? held(found) : undefined;
      if (!found) unknown.push(`${key} on ${node.address}`);
      else if (what) holding.set(key, [...(holding.get(key) ?? []), `${node.address}: ${what}`]);
    }
  }
  if (holding.size > 0) {
    const tables = [...holding].map(([key, nodes]) => `${key} (${nodes.join('; ')})`).join(', ');
    throw notEmpty(`the target's tables ${tables} hold no rows a read returns but hold deletions (tombstones) or other writes: a deletion newer than a restored row hides it once loaded, so the restore would not bring those rows back`);
  }
  if (unknown.length > 0) throw cannotTell(`nodetool cfstats printed no SSTable and memtable counts for ${unknown.join(', ')}`);
}
