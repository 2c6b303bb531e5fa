/**
 * What a restore of a Schemaless backup loads into each shard, from the backup and the chain it
 * extends (`RestoreContext.bases`: the full backup first): pure, no I/O.
 *
 * - cells: every chain member's cell chunks of the shard, in order (the members' cells are
 *   disjoint: each took only what came after the one before); their digests merged are the digest
 *   the restored cell table must have, and the newest member's summary is the whole table's;
 * - buffered writes: the newest member's copy (drained rows leave the table, so older copies are stale);
 * - index tables: the full backup's entries when the backup IS the full one and the target asks
 *   neither to rebuild nor for a point in time, empty otherwise (an incremental carries no index
 *   entries: they are derived from cells); the restore then checks loaded entries against the
 *   cells and repairs the shards where they differ, or builds empty ones from the cells.
 */
import type { BackupRecord, StoredArtifact } from '../../core/driver/types';
import { nodeRecords } from '../../core/catalog/manifest';
import { recordedNodes } from '../mysql/sharded/recorded-nodes';
import { PermanentError } from '../../core/errors';
import { TableDigest } from '../mysql/shared/table-digest';
import { ENGINE, recordedFacts, type SchemalessFacts, type ShardFacts, type ShardTable, type TableRole } from './records';

/** One table to create and load in a shard: its DDL and its chunks, in load order. */
export interface TablePlan {
  table: string;
  role: TableRole;
  engine: string;
  ddl: string;
  rows: number;
  /** The digest the loaded table must have (absent for an index table: it is repaired after loading). */
  digest?: string;
  chunks: StoredArtifact[];
}

export interface ShardPlan {
  shard: number;
  /** The newest member's summary of the whole cell table. */
  summary: ShardFacts['summary'];
  tables: TablePlan[];
}

export interface RestorePlan {
  facts: Pick<SchemalessFacts, 'shardCount' | 'cellTable' | 'indexes' | 'bufferedWritesTable' | 'valueEncoding'>;
  /** Whether the backed-up index entries are loaded (then checked, and repaired where wrong), or the indexes are built from the cells alone. */
  loadIndexes: boolean;
  shards: ShardPlan[];
  /** Every artifact the restore downloads, each with a local name unique across the chain. */
  downloads: Array<StoredArtifact & { local: string }>;
}

/** The shard facts of one backup, by shard, with the artifact behind each chunk name. */
function shardsOf(record: BackupRecord): Map<number, { facts: ShardFacts; artifact: (chunk: string) => StoredArtifact }> {
  const shards = new Map<number, { facts: ShardFacts; artifact: (chunk: string) => StoredArtifact }>();
  for (const node of recordedNodes(record, ENGINE)) {
    for (const facts of recordedFacts(node).shards) shards.set(facts.shard, { facts, artifact: (chunk) => node.artifact(chunk) });
  }
  return shards;
}

/** The plan of restoring `backup` on top of `bases` (oldest, the full backup, first): each shard from its newest full backup on. */
export function planRestore(bases: readonly BackupRecord[], backup: BackupRecord, target: { rebuildIndexes: boolean; pointInTime?: string }): RestorePlan {
  const chain = [...bases, backup];
  const newestFacts = recordedFacts(nodeRecords(backup)[0]);
  const members = chain.map(shardsOf);
  // Each shard from the newest full backup of it in the chain on: an incremental that could not
  // extend its base (the shard map or indexes changed) took a full copy instead.
  const starts = Array.from({ length: newestFacts.shardCount }, (_, shard) => {
    let start = members.length - 1;
    for (; start >= 0; start -= 1) {
      const found = members[start].get(shard);
      if (!found) throw new PermanentError(`backup ${chain[start].backupId} records no shard ${shard} of ${newestFacts.shardCount}`, { code: 'INVALID_MANIFEST', engine: ENGINE });
      if (found.facts.kind === 'full') return start;
    }
    throw new PermanentError(`the chain of backup ${backup.backupId} holds no full backup of shard ${shard}`, { code: 'INVALID_MANIFEST', engine: ENGINE });
  });
  const loadIndexes = !(target.rebuildIndexes || target.pointInTime !== undefined) && starts.every((start) => start === chain.length - 1);
  const downloads = new Map<string, StoredArtifact & { local: string }>();
  const take = (member: number, artifact: StoredArtifact): StoredArtifact => {
    downloads.set(artifact.key, { ...artifact, local: `${chain[member].backupId}/${artifact.name}` });
    return artifact;
  };
  const shards: ShardPlan[] = [];
  for (let shard = 0; shard < newestFacts.shardCount; shard += 1) {
    const start = starts[shard];
    const inMember = members.slice(start).map((m) => m.get(shard)!);
    const newest = inMember[inMember.length - 1];
    const tableOf = (i: number, role: TableRole, name?: string): ShardTable | undefined => inMember[i].facts.tables.find((t) => t.role === role && (name === undefined || t.table === name));
    const newestWith = (role: TableRole, name?: string): ShardTable => {
      for (let i = inMember.length - 1; i >= 0; i -= 1) {
        const found = tableOf(i, role, name);
        if (found) return found;
      }
      throw new PermanentError(`no backup of the chain holds the ${role} table${name ? ` ${name}` : ''} of shard ${shard}`, { code: 'INVALID_MANIFEST', engine: ENGINE });
    };
    const cells = newestWith('cells');
    const cellDigest = new TableDigest();
    const cellChunks: StoredArtifact[] = [];
    let cellRows = 0;
    inMember.forEach((m, i) => {
      const t = tableOf(i, 'cells')!;
      cellDigest.merge(TableDigest.fromHex(t.digest, t.rows));
      cellRows += t.rows;
      cellChunks.push(...t.chunks.map((c) => take(start + i, m.artifact(c))));
    });
    const tables: TablePlan[] = [{ table: cells.table, role: 'cells', engine: cells.engine, ddl: cells.ddl, rows: cellRows, digest: cellDigest.hex(), chunks: cellChunks }];
    for (const index of newestFacts.indexes) {
      const t = newestWith('index', index.table);
      tables.push(loadIndexes
        ? { table: t.table, role: 'index', engine: t.engine, ddl: t.ddl, rows: t.rows, chunks: t.chunks.map((c) => take(start, inMember[0].artifact(c))) }
        : { table: t.table, role: 'index', engine: t.engine, ddl: t.ddl, rows: 0, chunks: [] });
    }
    const buffered = tableOf(inMember.length - 1, 'buffered-writes');
    if (buffered) {
      tables.push({ table: buffered.table, role: 'buffered-writes', engine: buffered.engine, ddl: buffered.ddl, rows: buffered.rows, digest: buffered.digest, chunks: buffered.chunks.map((c) => take(chain.length - 1, newest.artifact(c))) });
    }
    shards.push({ shard, summary: newest.facts.summary, tables });
  }
  const { shardCount, cellTable, indexes, bufferedWritesTable, valueEncoding } = newestFacts;
  return { facts: { shardCount, cellTable, indexes, bufferedWritesTable, valueEncoding }, loadIndexes, shards, downloads: [...downloads.values()] };
}

/** A time as the DATETIME literal of the same instant in UTC (the data sessions' zone: `created_at` is UTC). */
export function utcDatetime(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}
