/**
 * What a restore of an incremental backup applies before it (`RestoreContext.bases`), resolved once
 * by the fetch manifest step: the chain back to the full backup (catalog/backup-chain.ts: each
 * link complete and verified), each link's records checked against its driver's record schemas and
 * each of its artifacts in the store at its size. A broken chain is refused there, before any
 * target is touched; contents are re-hashed as they are downloaded, as the restored backup's are.
 */
import { PermanentError } from '../errors';
import { Catalog } from '../catalog/catalog';
import { resolveChain, type CompleteEntry } from '../catalog/backup-chain';
import { backupRecordOf, checkManifestRecords } from '../catalog/backup-record';
import { manifestKey } from '../catalog/layout';
import { artifactNotStored } from '../catalog/stored-artifacts';
import type { BackupRecord } from '../driver/types';
import type { StepDeps } from '../steps/step-deps';

/**
 * The backups `entry` extends, the full backup first; empty for a full backup.
 * @throws PermanentError `CHAIN_BROKEN` naming the backup missing or damaged, `CHAIN_TOO_LONG`, or
 *   `INCREMENTAL_UNSUPPORTED` when the engine's driver (no longer) restores incremental backups:
 *   it would apply the changes alone.
 */
export async function restoreBases(entry: CompleteEntry, deps: StepDeps): Promise<BackupRecord[]> {
  const { engine, instance, backupId } = entry;
  if (entry.manifest.extends === undefined) return [];
  if (!deps.registry.manifest(engine).capabilities.includes('incremental')) {
    throw new PermanentError(`backup ${backupId} extends ${entry.manifest.extends}, but the ${engine} driver does not restore incremental backups`, { code: 'INCREMENTAL_UNSUPPORTED', engine });
  }
  const chain = resolveChain(entry, await new Catalog(deps.store).list({ engine, instance }));
  for (const base of chain) {
    const broken = (why: string) => new PermanentError(`the chain of backup ${backupId} (${engine}/${instance}) is broken: ${base.backupId}, which it rests on, ${why}`, { code: 'CHAIN_BROKEN', engine });
    try {
      checkManifestRecords(deps.registry, base.manifest, manifestKey(base.prefix));
    } catch (error) {
      throw error instanceof PermanentError ? broken(`does not hold what the driver records (${error.message})`) : error;
    }
    const notStored = await artifactNotStored(deps.store, base.manifest.artifacts);
    if (notStored) throw broken(`is damaged: ${notStored.what}`);
  }
  return chain.map((base) => backupRecordOf(base.manifest));
}
