/**
 * Where a backup's node steps keep their results in the store, beside the backup they belong to
 * (the state between steps carries only keys and counts, core/steps/step-records.ts):
 *
 *     <prefix>/nodes/<node>.json              the snapshot (artifacts, consistency point, facts): run-records.ts
 *     <prefix>/state/<node>/validation.json   the validation report
 *     <prefix>/state/<node>/upload.json       the stored artifacts
 *
 * They live and die with the backup: finalize copies what the manifest needs into it and removes
 * them; a failed backup is discarded with them (whole prefix); prune removes an incomplete
 * backup's. Keys are derived from the backup's prefix and the node's name, never taken from the
 * state, so a step reads only its own backup's records.
 */
import { z } from 'zod';
import { parsePoolKey } from '../catalog/layout';
import { storedArtifactSchema, validationReportSchema } from '../catalog/manifest';
import { storedBytesOf } from '../driver/artifact-check';
import type { SnapshotRef, UploadResult, ValidationReport } from '../driver/types';
import type { BlobStore } from '../store/blob-store';
import { deletePrefix } from '../store/blob-store';
import { getStepRecord, putStepRecord } from '../steps/step-records';
import type { NodeState, SnapshotSummary, UploadSummary, ValidationSummary } from './backup-state';
import { nodeRecordKey, nodeRecordSchema } from './run-records';

/** Key prefix of a backup's step results (not the snapshot records, which serve resume too). */
export const stepResultsPrefix = (prefix: string): string => `${prefix}/state/`;
export const validationKey = (prefix: string, node: string): string => `${prefix}/state/${node}/validation.json`;
export const uploadKey = (prefix: string, node: string): string => `${prefix}/state/${node}/upload.json`;

const uploadResultSchema = z.object({
  artifacts: z.array(storedArtifactSchema),
  bytes: z.number(),
  durationMs: z.number(),
  sentBytes: z.number().optional(),
});

type NodeAt = Pick<NodeState, 'prefix' | 'node'>;

/** The state's view of a snapshot recorded at `key`. */
export function snapshotSummary(key: string, snapshot: SnapshotRef): SnapshotSummary {
  const bytes = (artifacts: SnapshotRef['artifacts']) => artifacts.reduce((sum, a) => sum + a.size, 0);
  return {
    key,
    artifacts: snapshot.artifacts.length,
    bytes: bytes(snapshot.artifacts),
    // A pooled artifact may be an earlier backup's object: counted as the driver reports what it sent there (a driver pooling in `upload` reports it there).
    // A streamed artifact sent its stored bytes (compressed, encrypted), not its plain ones.
    streamedBytes: snapshot.artifacts.filter((a) => a.key !== undefined && !parsePoolKey(a.key)).reduce((sum, a) => sum + storedBytesOf(a).size, 0) + (snapshot.pooledSentBytes ?? 0),
  };
}

/**
 * The node's completed snapshot, from its record, its spool being `spoolDir` (the node's spool on
 * this host: the record keeps the path of the host that took it).
 */
export async function readSnapshot(store: BlobStore, state: NodeAt, spoolDir?: string): Promise<SnapshotRef> {
  const record = await getStepRecord(store, nodeRecordKey(state.prefix, state.node.name), nodeRecordSchema, `snapshot record of node ${state.node.name}`);
  const snapshot = record.snapshot as SnapshotRef;
  return spoolDir === undefined ? snapshot : { ...snapshot, spoolDir };
}

export async function writeValidation(store: BlobStore, state: NodeAt, report: ValidationReport): Promise<ValidationSummary> {
  const key = await putStepRecord(store, validationKey(state.prefix, state.node.name), report);
  return { key, ok: report.ok, checks: report.checks.length };
}

export function readValidation(store: BlobStore, state: NodeAt): Promise<ValidationReport> {
  return getStepRecord(store, validationKey(state.prefix, state.node.name), validationReportSchema, `validation report of node ${state.node.name}`);
}

export async function writeUpload(store: BlobStore, state: NodeAt, upload: UploadResult): Promise<UploadSummary> {
  const key = await putStepRecord(store, uploadKey(state.prefix, state.node.name), upload);
  return {
    key,
    artifacts: upload.artifacts.length,
    bytes: upload.bytes,
    storedBytes: upload.artifacts.reduce((sum, a) => sum + storedBytesOf(a).size, 0),
    durationMs: upload.durationMs,
    ...(upload.sentBytes === undefined ? {} : { sentBytes: upload.sentBytes }),
  };
}

export function readUpload(store: BlobStore, state: NodeAt): Promise<UploadResult> {
  return getStepRecord(store, uploadKey(state.prefix, state.node.name), uploadResultSchema, `upload result of node ${state.node.name}`);
}

/** Removes every node's step results of a backup (once its manifest holds what it needs). */
export function removeStepResults(store: BlobStore, prefix: string): Promise<number> {
  return deletePrefix(store, stepResultsPrefix(prefix));
}
