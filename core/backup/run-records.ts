/**
 * What an incomplete backup says about itself in the store, so that a later run can tell whether
 * it may continue it (resume-plan.ts):
 *
 *     <prefix>/run.json              written by prepare: the attempt that owns the backup and its holder
 *     <prefix>/nodes/<node>.json     written by the snapshot step: the node's completed snapshot
 *
 * Both are small JSON objects; they go once the manifest is written (finalize), and with the
 * backup when an incomplete one is discarded or pruned.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { backupPrefix } from '../catalog/layout';
import type { BlobStore } from '../store/blob-store';
import { readJson, writeJson } from '../store/json';
import { runHolderSchema } from '../runs/run-holder';
import { baseRefSchema, nodeRefSchema, runSchema, snapshotRefSchema } from './backup-state';

export const RUN_RECORD_VERSION = 1;

export const runRecordSchema = z.object({
  formatVersion: z.literal(RUN_RECORD_VERSION),
  backupId: z.string(),
  engine: z.string(),
  instance: z.string(),
  /** When the backup (its first attempt) started. */
  startedAt: z.iso.datetime(),
  nodes: z.array(nodeRefSchema).min(1),
  /** sha256 of the request's config (secret references, not secrets): a changed config is not resumed. */
  configSha256: z.string(),
  /** {@link encodingSha256} of the request (absent in an older version's record: not compared): a change is not resumed. */
  encodingSha256: z.string().optional(),
  /** The backup an incremental one extends: a run that continues it keeps this base (its snapshots were taken against it). */
  base: baseRefSchema.optional(),
  /** The attempt that owns the backup now. */
  run: runSchema,
  holder: runHolderSchema,
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export const nodeRecordSchema = z.object({
  formatVersion: z.literal(RUN_RECORD_VERSION),
  node: z.string(),
  /** The attempt that took the snapshot. */
  runId: z.string(),
  snapshot: snapshotRefSchema,
});
export type NodeRecord = z.infer<typeof nodeRecordSchema>;

export const runRecordKey = (prefix: string): string => `${prefix}/run.json`;
export const nodeRecordKey = (prefix: string, node: string): string => `${prefix}/nodes/${node}.json`;

/** sha256 of a config object, independent of its keys' order. */
export function configSha256(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/**
 * sha256 of whether a backup request asks for compression and of the encryption it asks for: what a
 * resumed run must keep (a level or thread count may change: each artifact records how it is stored).
 */
export function encodingSha256(request: { compression?: unknown; encryption?: unknown }): string {
  return configSha256({ compressed: request.compression !== undefined, encryption: request.encryption ?? null });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The run record of the backup at `prefix`; undefined when it has none (or an unreadable one: an older version's). */
export async function readRunRecord(store: BlobStore, prefix: string): Promise<RunRecord | undefined> {
  return parsedOrUndefined(runRecordSchema, await readJson(store, runRecordKey(prefix)).catch(() => undefined));
}

/** The completed snapshot of `node`, as recorded; undefined when the node's snapshot did not complete. */
export async function readNodeRecord(store: BlobStore, prefix: string, node: string): Promise<NodeRecord | undefined> {
  return parsedOrUndefined(nodeRecordSchema, await readJson(store, nodeRecordKey(prefix, node)).catch(() => undefined));
}

export async function writeRunRecord(store: BlobStore, prefix: string, record: RunRecord): Promise<void> {
  await writeJson(store, runRecordKey(prefix), record);
}

export async function writeNodeRecord(store: BlobStore, prefix: string, record: NodeRecord): Promise<void> {
  await writeJson(store, nodeRecordKey(prefix, record.node), record);
}

/** Removes the run and node records of a backup that is complete (they only serve resuming an incomplete one). */
export async function removeRunRecords(store: BlobStore, prefix: string, nodes: string[]): Promise<void> {
  await store.delete([runRecordKey(prefix), ...nodes.map((node) => nodeRecordKey(prefix, node))]);
}

function parsedOrUndefined<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Whether the backup has no run record in the store (discarded, or finished): a dead attempt's spool has nothing to resume (core/runs/leftovers.ts). */
export function runRecordGone(store: BlobStore): (backup: { engine: string; instance: string; backupId: string }) => Promise<boolean> {
  return async ({ engine, instance, backupId }) => !(await store.head(runRecordKey(backupPrefix(engine, instance, backupId))));
}
