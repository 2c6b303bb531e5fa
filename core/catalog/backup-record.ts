/**
 * What the steps take of a backup's manifest once they trust it: every node's record (consistency
 * point and facts) checked against its driver's record schemas, then the driver contract's view of
 * the backup ({@link BackupRecord}). A restore does this for the backup it restores and the
 * backups it reads too; an incremental backup for the backup it extends.
 */
import { PermanentError } from '../errors';
import type { DriverRegistry } from '../driver/registry';
import type { BackupRecord } from '../driver/types';
import { nodeRecords, type BackupManifest } from './manifest';

/**
 * Checks every node's record in the manifest at `key` against its driver's record schemas.
 * @throws PermanentError `INVALID_MANIFEST` naming the manifest, the node and the field.
 */
export function checkManifestRecords(registry: DriverRegistry, manifest: BackupManifest, key: string): void {
  const records = nodeRecords(manifest);
  if (records.length === 0) {
    throw new PermanentError(`manifest ${key} records no node (consistency.nodes is empty)`, { code: 'INVALID_MANIFEST', engine: manifest.engine });
  }
  for (const record of records) {
    registry.checkRecord(manifest.engine, record, `manifest ${key}${record.node ? ` (node ${record.node})` : ''}`, 'INVALID_MANIFEST');
  }
}

/** The subset of a manifest a driver is given (`RestoreContext.backup`, `BackupContext.previous`). */
export function backupRecordOf(manifest: BackupManifest): BackupRecord {
  const { backupId, engine, instance, consistency, facts, artifacts } = manifest;
  return { backupId, engine, instance, consistency, facts, artifacts };
}

/**
 * The artifacts a manifest's node records name (the driver's `recordSchemas.artifactsNamed`) that
 * its artifact list lacks: entries a damaged or edited manifest lost. None when the driver names none,
 * or is not registered here.
 */
export function unlistedArtifacts(registry: DriverRegistry, manifest: BackupManifest): string[] {
  // A backup of an engine whose driver is not here (an external plugin not installed) is verified by its bytes alone.
  const named = registry.has(manifest.engine) ? registry.manifest(manifest.engine).recordSchemas?.artifactsNamed : undefined;
  if (!named) return [];
  const listed = new Set(manifest.artifacts.map((a) => a.name));
  return nodeRecords(manifest).flatMap((record) => named(record)
    .filter((name) => !listed.has(name) && !(record.node !== undefined && listed.has(`${record.node}/${name}`)))
    .map((name) => (record.node !== undefined ? `${record.node}/${name}` : name)));
}

/** What {@link unlistedArtifacts} found, in words. */
export function unlistedText(unlisted: readonly string[]): string {
  return `its manifest does not list ${unlisted.length} artifact(s) its facts name: ${unlisted.slice(0, 5).join(', ')}${unlisted.length > 5 ? ', …' : ''}`;
}
