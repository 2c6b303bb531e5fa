/**
 * Reads what a store holds: complete backups (those with a manifest), incomplete ones (artifacts
 * without a manifest: crashed or still running), and the result of their latest verification.
 */
import { PermanentError } from '../errors';
import type { BlobStore } from '../store/blob-store';
import { readJson } from '../store/json';
import {
  BACKUPS_ROOT, assertName, backupIdTime, manifestKey, parseBackupKey, verificationKey,
} from './layout';
import { parseManifest, type BackupManifest } from './manifest';
import { parseVerification, type VerificationRecord } from './verification';

export interface CatalogEntry {
  backupId: string;
  engine: string;
  instance: string;
  prefix: string;
  /** True when manifest.json exists. */
  complete: boolean;
  manifest?: BackupManifest;
  verification?: VerificationRecord;
  createdAt: Date;
  /** Bytes stored under the prefix. */
  storedBytes: number;
}

export interface CatalogFilter {
  engine?: string;
  instance?: string;
  /** Include incomplete backups (default false). */
  includeIncomplete?: boolean;
}

/** Newest first. */
const byNewest = (a: CatalogEntry, b: CatalogEntry): number => b.backupId.localeCompare(a.backupId);

/** A backup that passed validation and whose latest re-verification (if any) passed too. */
export function isVerified(entry: CatalogEntry): boolean {
  return entry.complete && entry.manifest?.validation.ok === true && entry.verification?.ok !== false;
}

export class Catalog {
  constructor(private readonly store: BlobStore) {}

  /** Backups matching the filter, newest first. */
  async list(filter: CatalogFilter = {}): Promise<CatalogEntry[]> {
    if (filter.engine) assertName('engine', filter.engine);
    if (filter.instance) assertName('instance', filter.instance);
    let prefix = `${BACKUPS_ROOT}/`;
    if (filter.engine) prefix += `${filter.engine}/`;
    if (filter.engine && filter.instance) prefix += `${filter.instance}/`;

    const groups = new Map<string, { engine: string; instance: string; backupId: string; bytes: number; hasManifest: boolean; hasVerification: boolean }>();
    for await (const object of this.store.list(prefix)) {
      const parts = parseBackupKey(object.key);
      if (!parts) continue;
      if (filter.instance && parts.instance !== filter.instance) continue;
      const id = `${parts.engine}/${parts.instance}/${parts.backupId}`;
      const group = groups.get(id) ?? { ...parts, bytes: 0, hasManifest: false, hasVerification: false };
      group.bytes += object.size;
      if (parts.rest === 'manifest.json') group.hasManifest = true;
      if (parts.rest === 'verification.json') group.hasVerification = true;
      groups.set(id, group);
    }

    const entries: CatalogEntry[] = [];
    for (const [id, group] of groups) {
      if (!group.hasManifest && !filter.includeIncomplete) continue;
      const prefixKey = `${BACKUPS_ROOT}/${id}`;
      const entry: CatalogEntry = {
        backupId: group.backupId,
        engine: group.engine,
        instance: group.instance,
        prefix: prefixKey,
        complete: group.hasManifest,
        createdAt: backupIdTime(group.backupId) ?? new Date(0),
        storedBytes: group.bytes,
      };
      if (group.hasManifest) {
        const key = manifestKey(prefixKey);
        entry.manifest = parseManifest(await readJson(this.store, key), key);
        entry.createdAt = new Date(entry.manifest.startedAt);
      }
      if (group.hasVerification) {
        const key = verificationKey(prefixKey);
        entry.verification = parseVerification(await readJson(this.store, key), key);
      }
      entries.push(entry);
    }
    return entries.sort(byNewest);
  }

  /**
   * One complete backup by id, or the newest verified one when `backupId` is `latest`
   * (narrowed by engine/instance). Throws PermanentError `BACKUP_NOT_FOUND` otherwise.
   */
  async get(backupId: string, filter: Omit<CatalogFilter, 'includeIncomplete'> = {}): Promise<CatalogEntry> {
    const entries = await this.list({ ...filter, includeIncomplete: backupId !== 'latest' });
    if (backupId === 'latest') {
      const latest = entries.find(isVerified);
      if (!latest) {
        const scope = [filter.engine, filter.instance].filter(Boolean).join('/') || 'this store';
        throw new PermanentError(`no verified backup found for ${scope} in ${this.store.url}`, { code: 'BACKUP_NOT_FOUND' });
      }
      return latest;
    }
    const found = entries.find((e) => e.backupId === backupId);
    if (!found) {
      throw new PermanentError(`backup ${backupId} not found in ${this.store.url}`, { code: 'BACKUP_NOT_FOUND' });
    }
    if (!found.complete) {
      throw new PermanentError(`backup ${backupId} is incomplete (no manifest.json): it crashed or is still running`, { code: 'BACKUP_INCOMPLETE' });
    }
    return found;
  }
}
