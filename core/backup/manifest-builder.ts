/**
 * The manifest of a finished backup, built from what its nodes recorded in the store (each node's
 * snapshot record, validation report and upload result: step-results.ts), after checking every
 * node validated, every artifact is in the store at its recorded size, and the driver takes the
 * nodes together (`checkNodes`).
 */
import { PermanentError } from '../errors';
import { manifestFormatFor, nodeRecords, type BackupManifest } from '../catalog/manifest';
import { artifactNotStored, type FolderListing } from '../catalog/stored-artifacts';
import type { JsonObject, StoredArtifact } from '../driver/types';
import type { StepDeps } from '../steps/step-deps';
import type { FinalizeInput } from './backup-state';
import { readSnapshot, readUpload, readValidation } from './step-results';

/**
 * The manifest of `state`'s backup. One node: its consistency point and facts as they are; several:
 * under `nodes.<name>`, with artifact and check names prefixed by the node's. An incremental
 * backup's `extends` its base. Every node's artifacts are checked present against `listed`, a
 * listing of the backup's folder (other folders, a pool's, are looked at).
 * @throws PermanentError `NOT_VALIDATED`, `NOT_UPLOADED`, `ARTIFACT_MISSING`, `ARTIFACT_SIZE_MISMATCH`, `STEP_RECORD_MISSING`, or the driver's refusal of the nodes together.
 */
export async function buildManifest(state: FinalizeInput, deps: StepDeps, now: Date, listed: FolderListing): Promise<BackupManifest> {
  const expected = state.nodes.map((n) => n.name).sort();
  const reported = state.nodeResults.map((r) => r.node.name).sort();
  if (expected.join('\n') !== reported.join('\n')) {
    throw new PermanentError(`backup ${state.backupId} has results for nodes [${reported.join(', ')}], not for its nodes [${expected.join(', ')}]; refusing to mark it complete`, { code: 'NOT_UPLOADED' });
  }
  const single = state.nodeResults.length === 1;
  const artifacts: StoredArtifact[] = [];
  const consistency: Record<string, JsonObject> = {};
  const facts: Record<string, JsonObject> = {};
  const checks: BackupManifest['validation']['checks'] = [];
  for (const result of state.nodeResults) {
    const node = result.node.name;
    const notValidated = () => new PermanentError(`backup ${state.backupId} node ${node} has no passing validation; refusing to mark it complete`, { code: 'NOT_VALIDATED' });
    if (!result.validation?.ok) throw notValidated();
    if (!result.upload) {
      throw new PermanentError(`backup ${state.backupId} node ${node} was not uploaded; refusing to mark it complete`, { code: 'NOT_UPLOADED' });
    }
    const at = { prefix: state.prefix, node: result.node };
    const [snapshot, validation, upload] = await Promise.all([readSnapshot(deps.store, at), readValidation(deps.store, at), readUpload(deps.store, at)]);
    if (!validation.ok) throw notValidated();
    const plain = state.encryption ? upload.artifacts.find((artifact) => !artifact.stored?.dataKey) : undefined;
    if (plain) { // a host agent older than encryption ignores it: such a backup is not what was asked for
      throw new PermanentError(`backup ${state.backupId} was asked to be encrypted, but node ${node} stored ${plain.name} unencrypted (is its host agent older than this dbbackup?); refusing to mark it complete`, { code: 'NOT_ENCRYPTED' });
    }
    const notStored = await artifactNotStored(deps.store, upload.artifacts, listed);
    if (notStored) throw new PermanentError(`artifact ${notStored.what} in ${deps.store.url}; refusing to mark the backup complete`, { code: notStored.code });
    artifacts.push(...upload.artifacts.map((artifact) => (single ? artifact : { ...artifact, name: `${node}/${artifact.name}` })));
    consistency[node] = snapshot.consistency;
    facts[node] = snapshot.facts;
    checks.push(...validation.checks.map((c) => (single ? c : { ...c, name: `${node}:${c.name}` })));
  }
  const plugin = deps.registry.get(state.engine);
  const only = state.nodeResults[0].node.name;
  const manifest: BackupManifest = {
    formatVersion: manifestFormatFor(artifacts),
    backupId: state.backupId,
    engine: state.engine,
    instance: state.instance,
    driver: { name: plugin.manifest.name, version: plugin.manifest.version },
    ...(state.base ? { extends: state.base.backupId } : {}),
    startedAt: state.startedAt,
    completedAt: now.toISOString(),
    consistency: single ? consistency[only] : { nodes: consistency },
    facts: single ? facts[only] : { nodes: facts },
    artifacts,
    bytes: artifacts.reduce((sum, a) => sum + a.size, 0),
    validation: { ok: true, checks },
  };
  // Nodes read at their own points may not restore together: the driver looks at them all at once.
  await plugin.backup?.checkNodes?.(nodeRecords(manifest));
  return manifest;
}

/** One node's consistency point in a manifest (see {@link buildManifest} for the two shapes). */
export function nodeConsistency(manifest: Pick<BackupManifest, 'consistency' | 'facts'>, node: string): JsonObject {
  return (nodeRecords(manifest).find((record) => record.node === node)?.consistency ?? manifest.consistency) as JsonObject;
}

