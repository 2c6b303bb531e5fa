/**
 * Backup step 5, finalize: removes the objects under the backup's `data/` that no node's artifact list
 * names (what a snapshot or upload that died and was re-run left behind: the host steps may not
 * delete, this one may), writes manifest.json — last, built from the nodes' step results in the
 * store (manifest-builder.ts), and for an incremental backup only while the backup it extends is
 * still there unchanged (incremental-base.ts) — then removes what only an incomplete backup needs
 * (run records, step results). Idempotent: an existing manifest for this backup is kept. Returns a summary of a
 * few hundred bytes whatever the backup's size: the full report is the manifest.
 */
import { manifestKey } from '../catalog/layout';
import { listFolder, type FolderListing } from '../catalog/stored-artifacts';
import type { BackupManifest } from '../catalog/manifest';
import { readJson, writeJson } from '../store/json';
import { parseInput, runStep, type StepDeps } from '../steps/step-deps';
import { storedBytesOf } from '../driver/artifact-check';
import { finalizeInputSchema, type BackupSummary, type FinalizeInput, type StoredSummary } from './backup-state';
import { buildManifest } from './manifest-builder';
import { readBase } from './incremental-base';
import { attemptOf } from './node-run';
import { removeRunRecords } from './run-records';
import { removeStepResults } from './step-results';

export async function finalizeBackup(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<BackupSummary> {
  const state = parseInput(finalizeInputSchema, input, 'finalize input');
  return runStep(state.engine, deps, async () => {
    const key = manifestKey(state.prefix);
    let manifest = (await readJson(deps.store, key)) as BackupManifest | undefined;
    if (!manifest) {
      // An incremental backup is marked complete only while its base is still the one it extends.
      await readBase(state, deps);
      const listed = await listFolder(deps.store, `${state.prefix}/`); // once, for every node's artifacts and the strays
      manifest = await buildManifest(state, deps, now, listed);
      await removeStrays(deps, state.prefix, manifest, listed);
      await writeJson(deps.store, key, manifest);
    }
    await removeRunRecords(deps.store, state.prefix, state.nodes.map((n) => n.name));
    await removeStepResults(deps.store, state.prefix);
    deps.logger.info('backup complete', { backupId: state.backupId, engine: state.engine, bytes: manifest.bytes });
    return {
      backupId: manifest.backupId,
      engine: manifest.engine,
      instance: manifest.instance,
      manifestKey: key,
      bytes: manifest.bytes,
      durationMs: Date.parse(manifest.completedAt) - Date.parse(manifest.startedAt),
      consistency: manifest.consistency,
      validation: { ok: manifest.validation.ok, checks: manifest.validation.checks.length },
      sentBytes: sentBytes(state),
      ...(state.resumeOutcome ? { resume: state.resumeOutcome } : {}),
      ...(manifest.extends ? { extends: manifest.extends } : {}),
      ...(state.incrementalOutcome ? { incremental: state.incrementalOutcome } : {}),
      ...storedSummary(manifest),
    };
  });
}

/** How `manifest`'s artifacts are stored, when any is compressed or encrypted on the client. */
function storedSummary(manifest: BackupManifest): { stored?: StoredSummary } {
  const encoded = manifest.artifacts.filter((a) => a.stored);
  if (encoded.length === 0) return {};
  const compression = encoded.find((a) => a.stored!.compression)?.stored!.compression;
  const keys = [...new Set(encoded.flatMap((a) => (a.stored!.dataKey ? [`${a.stored!.dataKey.provider} ${a.stored!.dataKey.keyId}`] : [])))];
  return {
    stored: {
      bytes: manifest.artifacts.reduce((sum, a) => sum + storedBytesOf(a).size, 0),
      ...(compression ? { compression } : {}),
      ...(keys.length > 0 ? { encryptedWith: keys } : {}),
    },
  };
}

/** Deletes every object under the backup's `data/` (as `listed` saw it) that the manifest does not list. */
async function removeStrays(deps: StepDeps, prefix: string, manifest: BackupManifest, listed: FolderListing): Promise<void> {
  const kept = new Set(manifest.artifacts.map((artifact) => artifact.key));
  const strays = [...listed.sizes.keys()].filter((key) => key.startsWith(`${prefix}/data/`) && !kept.has(key));
  await deps.store.discardPartialWrites?.(`${prefix}/data/`);
  if (strays.length === 0) return;
  await deps.store.delete(strays);
  deps.logger.info('removed objects no artifact list names', { backupId: manifest.backupId, objects: strays.length, first: strays[0] });
}

/**
 * Bytes this attempt sent to the store: what its uploads sent, and what a snapshot it took wrote
 * straight to the store (a resumed node's snapshot was written by the attempt before).
 */
function sentBytes(state: FinalizeInput): number {
  const resumed = attemptOf(state).resumes !== undefined;
  return state.nodeResults.reduce((sum, result) => {
    const streamed = result.snapshot?.streamedBytes ?? 0;
    // An upload that does not say what it sent confirmed what the snapshot streamed and sent the rest: both as stored (compressed, encrypted).
    const uploaded = result.upload ? result.upload.sentBytes ?? Math.max(0, (result.upload.storedBytes ?? result.upload.bytes) - streamed) : 0;
    return sum + (resumed ? 0 : streamed) + uploaded;
  }, 0);
}
