/**
 * Where a restore's steps keep their results in the store (the state between steps carries only
 * keys and counts, core/steps/step-records.ts):
 *
 *     state/restores/<engine>/<instance>/<restoreId>/chain.json        the later backups the restore also reads (fetch manifest)
 *     state/restores/<engine>/<instance>/<restoreId>/bases.json        the backups an incremental one extends, full first (fetch manifest)
 *     state/restores/<engine>/<instance>/<restoreId>/nodes/<node>/prepared.json   a node's prepared target (prepare)
 *     state/restores/<engine>/<instance>/<restoreId>/nodes/<node>/staged.json     what a node's stage downloaded (stage)
 *     state/restores/<engine>/<instance>/<restoreId>/nodes/<node>/applied.json    a node's result before its start (apply, for drivers that start)
 *     state/restores/<engine>/<instance>/<restoreId>/nodes/<node>/result.json     a node's finished restore (apply, or start for drivers that start)
 *     state/restores/<engine>/<instance>/<restoreId>/result.json       every node's result merged (validate)
 *     state/restores/<engine>/<instance>/<restoreId>/validation.json   the validation report (validate)
 *     state/restores/<engine>/<instance>/<restoreId>/report.json       the full report (report; also written when validation failed)
 *     state/restores/<engine>/<instance>/<restoreId>/failure.json      a failed restore: the error, what the target holds, what was stopped
 *
 * The records before `report.json` serve the next steps only: the report step (or, on failure, the restore's
 * cleanup) removes them. `report.json` and `failure.json` are what the operator reads and stay;
 * the bucket's lifecycle expires them. Keys are derived from the state's engine,
 * instance and restore id, never taken from the state.
 */
import { z } from 'zod';
import { STATE_ROOT, assertName } from '../catalog/layout';
import { storedArtifactSchema, validationReportSchema } from '../catalog/manifest';
import type { BackupRecord, PreparedTarget, RestoreResult, ValidationReport } from '../driver/types';
import type { BlobStore } from '../store/blob-store';
import { getStepRecord, putStepRecord } from '../steps/step-records';
import { jsonSha256 } from '../io/json-digest';

/** Store prefix of every restore's records. */
export const RESTORES_ROOT = `${STATE_ROOT}/restores`;

export type RestoreRecord = BackupList | 'result' | 'validation' | 'report' | 'failure';
/** The lists of backups fetch manifest resolves for the drivers: `chain` (RestoreContext.chain), `bases` (RestoreContext.bases). */
export type BackupList = 'chain' | 'bases';
/** The records each node's steps write. */
export type NodeRecord = 'prepared' | 'staged' | 'applied' | 'result';

/** Identifies one restore's records. */
export interface RestoreAt {
  restoreId: string;
  backup: { engine: string; instance: string };
}

/** One node of a restore. */
export type NodeAt = RestoreAt & { node: { name: string } };

const jsonObject = z.record(z.string(), z.any());
const preparedSchema = z.object({ details: jsonObject });
const resultSchema = z.object({ endpoint: jsonObject, bytes: z.number(), durationMs: z.number() });
const stagedSchema = z.object({ bytes: z.number(), durationMs: z.number() });

/** What a node's stage step recorded: the bytes it staged and how long it took. */
export interface StagedRecord {
  bytes: number;
  durationMs: number;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Key of one of a restore's records. */
export function restoreRecordKey(at: RestoreAt, record: RestoreRecord): string {
  return `${restoreRecordPrefix(at)}/${record}.json`;
}

/** Key of one of a node's records. */
export function nodeRecordKey(at: NodeAt, record: NodeRecord): string {
  if (!SAFE_NAME.test(at.node.name)) throw new Error(`invalid node name ${JSON.stringify(at.node.name)}`);
  return `${restoreRecordPrefix(at)}/nodes/${at.node.name}/${record}.json`;
}

function restoreRecordPrefix(at: RestoreAt): string {
  assertName('engine', at.backup.engine);
  assertName('instance', at.backup.instance);
  if (!SAFE_NAME.test(at.restoreId)) throw new Error(`invalid restore id ${JSON.stringify(at.restoreId)}`);
  return `${RESTORES_ROOT}/${at.backup.engine}/${at.backup.instance}/${at.restoreId}`;
}

export function writePrepared(store: BlobStore, at: NodeAt, prepared: PreparedTarget): Promise<string> {
  return putStepRecord(store, nodeRecordKey(at, 'prepared'), prepared);
}

/** The node's prepared target; undefined when its prepare step has not finished. */
export async function findPrepared(store: BlobStore, at: NodeAt): Promise<PreparedTarget | undefined> {
  return await store.head(nodeRecordKey(at, 'prepared')) ? readPrepared(store, at) : undefined;
}

export function readPrepared(store: BlobStore, at: NodeAt): Promise<PreparedTarget> {
  return getStepRecord(store, nodeRecordKey(at, 'prepared'), preparedSchema, `prepared restore target of node ${at.node.name}`) as Promise<PreparedTarget>;
}

export function writeStaged(store: BlobStore, at: NodeAt, staged: StagedRecord): Promise<string> {
  return putStepRecord(store, nodeRecordKey(at, 'staged'), staged);
}

export function readStaged(store: BlobStore, at: NodeAt): Promise<StagedRecord> {
  return getStepRecord(store, nodeRecordKey(at, 'staged'), stagedSchema, `staged files of node ${at.node.name}`);
}

/** Writes the node's result: `applied` when its start is still to come, `result` once its restore has finished. */
export function writeNodeResult(store: BlobStore, at: NodeAt, result: RestoreResult, record: 'applied' | 'result' = 'result'): Promise<string> {
  return putStepRecord(store, nodeRecordKey(at, record), result);
}

/** The node's result; undefined when its restore step has not finished. */
export async function findNodeResult(store: BlobStore, at: NodeAt): Promise<RestoreResult | undefined> {
  return await store.head(nodeRecordKey(at, 'result')) ? readNodeResult(store, at) : undefined;
}

export function readNodeResult(store: BlobStore, at: NodeAt, record: 'applied' | 'result' = 'result'): Promise<RestoreResult> {
  return getStepRecord(store, nodeRecordKey(at, record), resultSchema, `restore result of node ${at.node.name}`) as Promise<RestoreResult>;
}

/** Writes every node's result merged (node-results.ts). */
export function writeResult(store: BlobStore, at: RestoreAt, result: RestoreResult): Promise<string> {
  return putStepRecord(store, restoreRecordKey(at, 'result'), result);
}

export function readResult(store: BlobStore, at: RestoreAt): Promise<RestoreResult> {
  return getStepRecord(store, restoreRecordKey(at, 'result'), resultSchema, 'restore result') as Promise<RestoreResult>;
}

const backupListSchema = z.array(z.object({
  backupId: z.string(), engine: z.string(), instance: z.string(), consistency: jsonObject, facts: jsonObject, artifacts: z.array(storedArtifactSchema),
}));

/** Writes one of the restore's lists of backups; returns the sha256 the state keeps of it. */
export async function writeBackupList(store: BlobStore, at: RestoreAt, list: BackupList, backups: BackupRecord[]): Promise<string> {
  await putStepRecord(store, restoreRecordKey(at, list), backups);
  return jsonSha256(backups);
}

/**
 * Reads one of the restore's lists of backups, refusing one that is not what fetch manifest wrote
 * (`sha256`, from the state): a host cannot change the state, so it cannot change the list.
 */
export function readBackupList(store: BlobStore, at: RestoreAt, list: BackupList, sha256: string): Promise<BackupRecord[]> {
  const unchanged = {
    safeParse: (value: unknown) => jsonSha256(value) === sha256
      ? backupListSchema.safeParse(value)
      : { success: false as const, error: { message: `it changed since the fetch manifest step wrote it (sha256 ${sha256} expected, ${jsonSha256(value)} found)` } },
  };
  return getStepRecord(store, restoreRecordKey(at, list), unchanged, `restore ${list}`) as Promise<BackupRecord[]>;
}

export function writeValidation(store: BlobStore, at: RestoreAt, report: ValidationReport): Promise<string> {
  return putStepRecord(store, restoreRecordKey(at, 'validation'), report);
}

export function readValidation(store: BlobStore, at: RestoreAt): Promise<ValidationReport> {
  return getStepRecord(store, restoreRecordKey(at, 'validation'), validationReportSchema, 'restore validation report');
}

/** Removes the records that only serve the next steps (the report stays). */
export async function removeIntermediateRecords(store: BlobStore, at: RestoreAt & { nodes: ReadonlyArray<{ name: string }> }): Promise<void> {
  const nodeKeys = at.nodes.flatMap((node) => (['prepared', 'staged', 'applied', 'result'] as const).map((record) => nodeRecordKey({ ...at, node }, record)));
  await store.delete([...(['chain', 'bases', 'result', 'validation'] as const).map((record) => restoreRecordKey(at, record)), ...nodeKeys]);
}
