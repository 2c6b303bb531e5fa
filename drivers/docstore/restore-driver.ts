/**
 * Restore side of the Docstore driver: a backup into the partition databases of a target of any
 * number of servers (its partition map), over the network from the step's host: one node.
 *
 *     prepareTarget: the target has the backup's number of partitions, none of its tables holding rows (unless forced)
 *     restore:       every chunk downloaded and verified, then each partition's tables created and
 *                    loaded (the shared shard loader); then every secondary index checked against
 *                    the documents across partitions and repaired on the partitions that fail,
 *                    counting the dangling and missing entries (the partitions were read at
 *                    different moments: an entry may precede or outlive its document)
 *     validate:      schema and document tables as dumped, document integrity, index integrity
 */
import { downloadArtifacts } from '../../core/driver/download';
import type { PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationCheck, ValidationReport } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { indexIntegrity } from '../mysql/sharded/index-validation';
import { indexRecords, makeIndexesWhole, recordedIndexes, type RestoredIndex } from '../mysql/sharded/restored-indexes';
import { loadShards } from '../mysql/sharded/shard-load';
import { checkOf } from '../../core/driver/validation-check';
import { connectShards, occupiedTables } from '../mysql/sharded/target-shards';
import { mysqlEndpoint } from '../mysql/shared/connection-config';
import { digestTable } from '../mysql/shared/table-reader';
import { asShardMap, type DocstoreRestoreTarget } from './config';
import { checkDocuments } from './document-check';
import { documentIndexes } from './document-index';
import { ENGINE } from './records';
import { planRestore, type RestorePlan } from './restore-plan';
import { docstoreScratch } from './scratch';

type Ctx = RestoreContext<DocstoreRestoreTarget>;

export class DocstoreRestoreDriver implements RestoreDriver<DocstoreRestoreTarget> {
  /** The empty target on this host a restore drill restores into. */
  readonly scratch = docstoreScratch;

  endpoint(target: DocstoreRestoreTarget): string {
    return target.servers.map((s) => mysqlEndpoint(s)).join(',');
  }

  /** A restore sends data to servers over the network: no host path is replaced. */
  replacedPaths(): string[] {
    return [];
  }

  /** A forced restore replaces tables on every target server that holds a partition. */
  replacedServers(target: DocstoreRestoreTarget): string[] {
    return target.servers.filter((s) => target.partitions.some((p) => p.server === s.name)).map((s) => mysqlEndpoint(s));
  }

  async prepareTarget(ctx: Ctx): Promise<PreparedTarget> {
    const plan = planRestore(ctx.backup);
    if (ctx.target.partitions.length !== plan.partitionCount) {
      throw new PermanentError(`backup ${ctx.backup.backupId} holds ${plan.partitionCount} partitions; the target maps ${ctx.target.partitions.length}: a restore puts every partition somewhere (documents are placed by CRC32(partition_key) % partitions)`,
        { code: 'DOCSTORE_PARTITION_COUNT', engine: ENGINE });
    }
    const occupied = await occupiedTables(asShardMap(ctx.target), [...new Set(plan.partitions.flatMap((p) => p.tables.map((t) => t.table)))]);
    if (occupied.length > 0 && !ctx.force) {
      throw new PermanentError(`the target holds data: ${occupied.slice(0, 5).join(', ')}${occupied.length > 5 ? ` and ${occupied.length - 5} more` : ''} (restore into empty partition databases, or force to replace them)`,
        { code: 'TARGET_NOT_EMPTY', engine: ENGINE });
    }
    return { details: { partitions: plan.partitionCount, replaced: occupied.length } };
  }

  async restore(ctx: Ctx, _prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    const started = Date.now();
    const plan = planRestore(ctx.backup);
    const downloaded = await downloadArtifacts(plan.downloads, ctx.spoolDir, { ...transfer, concurrency: 4 });
    const files = new Map(plan.downloads.map((a) => [a.key, downloaded.files[a.name]]));
    const shards = plan.partitions.map((p) => ({ shard: p.shard, tables: p.tables.map((t) => ({ ...t, chunks: t.chunkArtifacts })) }));
    const rows = await loadShards({ target: { ...asShardMap(ctx.target), parallelism: ctx.target.parallelism }, shards, valueEncoding: plan.valueEncoding, files, logger: ctx.logger, signal: ctx.signal });
    const repairs = await repairIndexes(ctx, plan);
    ctx.logger.info('docstore restore: loaded', { partitions: plan.partitionCount, rows, repairs });
    return {
      endpoint: {
        servers: ctx.target.servers.map((s) => s.name),
        partitions: plan.partitionCount,
        restoredIndexes: indexRecords(repairs),
      },
      bytes: downloaded.bytes,
      durationMs: Date.now() - started,
    };
  }

  async validateRestore(ctx: Ctx, result: RestoreResult): Promise<ValidationReport> {
    const checks = await validatePartitions(ctx, planRestore(ctx.backup), result);
    return { ok: checks.every((c) => c.ok), checks };
  }
}

/**
 * Makes every index hold exactly the entries the restored documents call for (the shared
 * makeIndexesWhole: checked, and repaired on the partitions that fail); what each repair changed.
 */
async function repairIndexes(ctx: Ctx, plan: RestorePlan): Promise<RestoredIndex[]> {
  const indexes = documentIndexes(plan.definitions);
  return indexes.length === 0 ? [] : makeIndexesWhole(asShardMap(ctx.target), indexes, { loaded: true, perServer: ctx.target.parallelism });
}

/**
 * `tables-restored` (schema and document tables, digest for digest as dumped), `documents` (valid
 * JSON, keys and typed columns equal to the document's fields, each on its partition), and
 * `index-integrity` (every entry resolves to a document with that key, every document has each
 * index's entry; the repairs the restore made counted in its detail).
 */
async function validatePartitions(ctx: Ctx, plan: RestorePlan, result: RestoreResult): Promise<ValidationCheck[]> {
  const connected = await connectShards(asShardMap(ctx.target));
  try {
    const tableProblems: string[] = [];
    const documentProblems: string[] = [];
    let tables = 0;
    let documents = 0;
    for (const partition of connected.shards) {
      for (const t of plan.partitions[partition.shard].tables.filter((x) => x.role !== 'index')) {
        tables += 1;
        const found = await digestTable(partition.connection, { database: partition.database, table: t.table });
        if (found.rows !== t.rows || found.digest !== t.digest) tableProblems.push(`partition ${partition.shard} ${partition.database}.${t.table}: ${found.rows} rows, digest ${found.digest}; dumped ${t.rows}, ${t.digest}`);
      }
      for (const [table, definition] of Object.entries(plan.definitions)) {
        const found = await checkDocuments(partition, table, definition, plan.partitionCount);
        documents += found.documents;
        const wrong = [
          found.invalidJson ? `${found.invalidJson} not valid JSON` : '',
          found.wrongKeys ? `${found.wrongKeys} with keys other than their fields` : '',
          ...Object.entries(found.wrongColumns).map(([column, n]) => (n ? `${n} with ${column} other than their field` : '')),
          found.misplaced ? `${found.misplaced} on the wrong partition` : '',
        ].filter(Boolean);
        if (wrong.length > 0) documentProblems.push(`partition ${partition.shard} ${table}: ${wrong.join(', ')}`);
      }
    }
    const checks: ValidationCheck[] = [
      checkOf('tables-restored', tableProblems, `${tables} schema and document tables as dumped`),
      checkOf('documents', documentProblems, `${documents} documents: valid JSON, keys and typed columns equal to their fields, each on its partition`),
    ];
    const indexes = documentIndexes(plan.definitions);
    if (indexes.length > 0) {
      checks.push(await indexIntegrity(asShardMap(ctx.target), indexes, recordedIndexes(result.endpoint), { perServer: ctx.target.parallelism }, { shard: 'partition', row: 'document' }));
    }
    return checks;
  } finally {
    await connected.close();
  }
}
