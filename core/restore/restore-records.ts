/**
 * Where a restore's steps keep their results in the store (the state between steps carries only
 * keys and counts, core/steps/step-records.ts):
 *
 *     state/restores/<engine>/<instance>/<restoreId>/chain.json        the later backups the restore also reads (fetch manifest)
 *     state/restores/<engine>/<instance>/<restoreId>/prepared.json     the prepared target (prepare)
 *     state/restores/<engine>/<instance>/<restoreId>/result.json       the restore result (apply)
 *     state/restores/<engine>/<instance>/<restoreId>/validation.json   the validation report (validate)
 *     state/restores/<engine>/<instance>/<restoreId>/report.json       the full report (report; also written when validation failed)
 *     state/restores/<engine>/<instance>/<restoreId>/failure.json      a failed restore: the error, what the target holds, what was stopped
 *
 * The first three serve the next steps only: the report step (or, on failure, the restore's
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

export type RestoreRecord = 'chain' | 'prepared' | 'result' | 'validation' | 'report' | 'failure';

/** Identifies one restore's records. */
export interface RestoreAt {
  restoreId: string;
  backup: { engine: string; instance: string };
}

const jsonObject = z.record(z.string(), z.any());
const preparedSchema = z.object({ details: jsonObject });
const resultSchema = z.object({ endpoint: jsonObject, bytes: z.number(), durationMs: z.number() });

/** Key of one of a restore's records. */
export function restoreRecordKey(at: RestoreAt, record: RestoreRecord): string {
  assertName('engine', at.backup.engine);
  assertName('instance', at.backup.instance);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(at.restoreId)) throw new Error(`invalid restore id ${JSON.stringify(at.restoreId)}`);
  return `${RESTORES_ROOT}/${at.backup.engine}/${at.backup.instance}/${at.restoreId}/${record}.json`;
}

export function writePrepared(store: BlobStore, at: RestoreAt, prepared: PreparedTarget): Promise<string> {
  return putStepRecord(store, restoreRecordKey(at, 'prepared'), prepared);
}

export function readPrepared(store: BlobStore, at: RestoreAt): Promise<PreparedTarget> {
  return getStepRecord(store, restoreRecordKey(at, 'prepared'), preparedSchema, 'prepared restore target') as Promise<PreparedTarget>;
}

export function writeResult(store: BlobStore, at: RestoreAt, result: RestoreResult): Promise<string> {
  return putStepRecord(store, restoreRecordKey(at, 'result'), result);
}

export function readResult(store: BlobStore, at: RestoreAt): Promise<RestoreResult> {
  return getStepRecord(store, restoreRecordKey(at, 'result'), resultSchema, 'restore result') as Promise<RestoreResult>;
}

const chainSchema = z.array(z.object({
  backupId: z.string(), engine: z.string(), instance: z.string(), consistency: jsonObject, facts: jsonObject, artifacts: z.array(storedArtifactSchema),
}));

/** Writes the restore's chain (the later backups it reads too); returns the sha256 the state keeps of it. */
export async function writeChain(store: BlobStore, at: RestoreAt, chain: BackupRecord[]): Promise<string> {
  await putStepRecord(store, restoreRecordKey(at, 'chain'), chain);
  return jsonSha256(chain);
}

/** Reads the restore's chain, refusing one that is not what fetch manifest wrote (`sha256`, from the state). */
export function readChain(store: BlobStore, at: RestoreAt, sha256: string): Promise<BackupRecord[]> {
  const unchanged = {
    safeParse: (value: unknown) => jsonSha256(value) === sha256
      ? chainSchema.safeParse(value)
      : { success: false as const, error: { message: `it changed since the fetch manifest step wrote it (sha256 ${sha256} expected, ${jsonSha256(value)} found)` } },
  };
  return getStepRecord(store, restoreRecordKey(at, 'chain'), unchanged, 'restore chain') as Promise<BackupRecord[]>;
}

export function writeValidation(store: BlobStore, at: RestoreAt, report: ValidationReport): Promise<string> {
  return putStepRecord(store, restoreRecordKey(at, 'validation'), report);
}

export function readValidation(store: BlobStore, at: RestoreAt): Promise<ValidationReport> {
  return getStepRecord(store, restoreRecordKey(at, 'validation'), validationReportSchema, 'restore validation report');
}

/** Removes the records that only serve the next steps (the report stays). */
export async function removeIntermediateRecords(store: BlobStore, at: RestoreAt): Promise<void> {
  await store.delete((['chain', 'prepared', 'result', 'validation'] as const).map((record) => restoreRecordKey(at, record)));
}
