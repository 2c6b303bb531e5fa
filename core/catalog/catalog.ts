/**
 * Reads what a store holds: complete backups (those with a manifest), incomplete ones (artifacts
 * without a manifest: crashed or still running), damaged ones (an unreadable manifest or
 * verification record: listed with the reason, never chosen as `latest`), and the result of their
 * latest verification. One damaged backup never stops the others from being listed.
 */
import { PermanentError } from '../errors';
import { mapLimited } from '../concurrency';
import { nameSome } from '../name-some';
import { subfolders, type BlobStore } from '../store/blob-store';
import { type BackupDamage, readDrill, readManifest, readVerification } from './entry-files';
import type { DrillRecord } from './drill-record';
import { BACKUPS_ROOT, assertName, backupIdTime, folderOfBackup, isBackupId, isName, manifestKey, parseBackupKey } from './layout';
import { recordIsFor, type BackupManifest } from './manifest';
import { MAX_CHAIN_LINKS, resolveChain } from './backup-chain';
import { artifactNotStored, backupFolder, type FolderListing } from './stored-artifacts';
import type { VerificationRecord } from './verification';

export type { BackupDamage } from './entry-files';

export interface CatalogEntry {
  backupId: string;
  engine: string;
  instance: string;
  prefix: string;
  /** True when manifest.json exists and is readable: the backup can be verified and restored. */
  complete: boolean;
  /**
   * `complete`; `incomplete` (no manifest.json: crashed or still running); `damaged` (its
   * manifest.json or verification.json cannot be read: see `damage`).
   */
  status: 'complete' | 'incomplete' | 'damaged';
  /** Why the backup is damaged. A damaged manifest leaves the backup incomplete (`complete: false`). */
  damage?: BackupDamage;
  manifest?: BackupManifest;
  verification?: VerificationRecord;
  /** Its newest restore drill (of this manifest), when one ran. */
  drill?: DrillRecord;
  createdAt: Date;
  /** Bytes stored under the prefix. */
  storedBytes: number;
  /** For `latest`: the newer complete backups it passed over, newest first, and why each does not qualify. */
  passedOver?: PassedOver[];
  /**
   * An artifact in the backup's own folder that the listing shows gone or of another size than its
   * manifest records (`<key> is N bytes, expected M`): cut short or deleted, found without reading
   * it. Artifacts elsewhere (pooled, another backup's) are not looked at here (a restore heads them).
   */
  unstored?: string;
}

/** A newer backup `latest` did not pick, and why (in words). */
export interface PassedOver {
  backupId: string;
  why: string;
}

/**
 * Newer backups a `latest` lookup names at most, and the characters of each reason (a drill's
 * failure can be a long message): they travel in the restore's state, which stays a few KB.
 */
const PASSED_OVER_NAMED = 10;
const PASSED_OVER_WHY_CHARS = 200;

export interface CatalogFilter {
  engine?: string;
  instance?: string;
  /** Include incomplete backups (default false). Damaged ones are always listed. */
  includeIncomplete?: boolean;
  /**
   * Compare each backup's artifacts in its own folder with the listing's sizes (`unstored`): what
   * `list`, `show` and `report` show. It keeps every object's size while listing: left off where
   * only the records matter (a large store listed twice as slowly).
   */
  sizes?: boolean;
}

/**
 * What narrows a backup id or `latest`; `restoreVerified` makes `latest` the newest restore-verified
 * backup, `restorable` the newest verified one no drill failed to restore (what a restore takes; a
 * drill takes the newest verified one, so a failed drill is tried again rather than an older backup).
 */
export type LatestFilter = Omit<CatalogFilter, 'includeIncomplete'> & {
  restoreVerified?: boolean;
  restorable?: boolean;
  /**
   * With `latest`: why a backup (otherwise wanted) cannot serve the request, undefined when it can;
   * passed over with that reason. `listed`: the listing of the backup's folder the catalog made.
   */
  serves?: (entry: CatalogEntry & { manifest: BackupManifest }, listed?: FolderListing) => string | undefined | Promise<string | undefined>;
};

/** Newest first. */
const byNewest = (a: { backupId: string }, b: { backupId: string }): number => b.backupId.localeCompare(a.backupId);

/**
 * A backup that passed validation, is not damaged, whose latest re-verification (if any) passed
 * too, and whose folder's listing (when it was looked at: `unstored`) shows every artifact whole.
 */
export function isVerified(entry: CatalogEntry): boolean {
  return entry.complete && !entry.damage && entry.manifest?.validation.ok === true && entry.verification?.ok !== false && entry.unstored === undefined;
}

/** A verified backup no drill has failed to restore: what `restore latest` picks. */
export function isRestorable(entry: CatalogEntry): boolean {
  return isVerified(entry) && entry.drill?.ok !== false;
}

/** A verified backup whose newest restore drill restored and validated it. */
export function isRestoreVerified(entry: CatalogEntry): boolean {
  return isVerified(entry) && entry.drill?.ok === true;
}

/** Why a complete backup is not one `latest` picks, in words. */
function whyNot(entry: CatalogEntry): string {
  if (entry.damage) return `is damaged (${entry.damage.file}: ${entry.damage.reason})`;
  if (entry.manifest?.validation.ok !== true) return 'failed its validation when it was taken';
  if (entry.verification?.ok === false) return `failed re-verification (CORRUPT) at ${entry.verification.verifiedAt}`;
  if (entry.unstored) return `is damaged: ${entry.unstored}`;
  if (entry.drill?.ok === false) return `failed its restore drill: ${entry.drill.reason ?? 'restore failed'}`;
  return 'has not been restore-verified by a drill';
}

/** A backup without a manifest.json at all: crashed or still running (not one whose manifest is damaged). */
export function isIncomplete(entry: CatalogEntry): boolean {
  return entry.status === 'incomplete';
}

/** Backups whose records (manifest, verification, drill) a listing reads at once: each is a request or two to an object store. */
const RECORDS_READ_AT_ONCE = 8;

/** Where a backup is: its engine, instance and id, the names of its folders. */
type BackupFolder = { engine: string; instance: string; backupId: string };

interface Group extends BackupFolder { bytes: number; hasManifest: boolean; hasVerification: boolean; hasDrill: boolean; sizes?: Map<string, number> }

export class Catalog {
  constructor(private readonly store: BlobStore) {}

  /** Backups matching the filter, newest first (their records read {@link RECORDS_READ_AT_ONCE} backups at a time). */
  async list(filter: CatalogFilter = {}): Promise<CatalogEntry[]> {
    const groups = (await this.groups(filter, filter.sizes === true)).filter((group) => group.hasManifest || filter.includeIncomplete);
    const entries = await mapLimited(groups, RECORDS_READ_AT_ONCE, (group) => this.entry(group));
    return entries.filter((entry) => entry.status !== 'incomplete' || filter.includeIncomplete);
  }

  /** The backups the store holds under the filter's engine and instance, from one listing, newest first. */
  private async groups(filter: CatalogFilter, keepSizes = false): Promise<Group[]> {
    let prefix = `${BACKUPS_ROOT}/`;
    if (filter.engine) prefix += `${filter.engine}/`;
    if (filter.engine && filter.instance) prefix += `${filter.instance}/`;
    return this.groupsUnder(prefix, filter, keepSizes);
  }

  /** The backups of the objects under `prefix` (those of the filter's instance), newest first; with `keepSizes`, each object's size too. */
  private async groupsUnder(prefix: string, filter: CatalogFilter, keepSizes = false): Promise<Group[]> {
    if (filter.engine) assertName('engine', filter.engine);
    if (filter.instance) assertName('instance', filter.instance);
    const groups = new Map<string, Group>();
    for await (const object of this.store.list(prefix)) {
      const parts = parseBackupKey(object.key);
      if (!parts) continue;
      if (filter.instance && parts.instance !== filter.instance) continue;
      const id = `${parts.engine}/${parts.instance}/${parts.backupId}`;
      const group = groups.get(id) ?? { ...parts, bytes: 0, hasManifest: false, hasVerification: false, hasDrill: false };
      group.bytes += object.size;
      if (keepSizes) (group.sizes ??= new Map()).set(object.key, object.size);
      if (parts.rest === 'manifest.json') group.hasManifest = true;
      if (parts.rest === 'verification.json') group.hasVerification = true;
      if (parts.rest === 'drill.json') group.hasDrill = true;
      groups.set(id, group);
    }
    return [...groups.values()].sort(byNewest);
  }

  /**
   * The folders of the backups under the filter's engine and instance, newest first, from folder
   * listings only (what is in them is not listed: a store of many backups of many objects each
   * costs a request per thousand engines, instances or backups, not per thousand objects).
   */
  private async backupFolders(filter: CatalogFilter): Promise<BackupFolder[]> {
    if (filter.engine) assertName('engine', filter.engine);
    if (filter.instance) assertName('instance', filter.instance);
    const folders: BackupFolder[] = [];
    // A folder no backup could be in (a stray key's) is passed over, as a full listing passes over its key.
    const engines = filter.engine ? [filter.engine] : (await subfolders(this.store, `${BACKUPS_ROOT}/`)).filter(isName);
    for (const engine of engines) {
      const instances = filter.instance ? [filter.instance] : (await subfolders(this.store, `${BACKUPS_ROOT}/${engine}/`)).filter(isName);
      for (const instance of instances) {
        for (const backupId of await subfolders(this.store, `${BACKUPS_ROOT}/${engine}/${instance}/`)) {
          if (isBackupId(backupId)) folders.push({ engine, instance, backupId });
        }
      }
    }
    return folders.sort(byNewest);
  }

  /** The backup in `folder`, from a listing of that folder only (each object's size kept); undefined when it holds nothing. */
  private async groupIn(folder: BackupFolder): Promise<Group | undefined> {
    const [group] = await this.groupsUnder(`${folderOfBackup(folder)}/`, {}, true);
    return group;
  }

  /**
   * One backup by id, whatever its state but incomplete, or the newest verified one when
   * `backupId` is `latest` (narrowed by engine/instance; the newest restore-verified one with
   * `restoreVerified`). For `show`. Lists and reads that backup
   * only (the newest ones down to the verified one, for `latest`), found by its folder's name.
   * @throws PermanentError `BACKUP_NOT_FOUND`, `BACKUP_INCOMPLETE`, or `BACKUP_AMBIGUOUS` when the
   *   id exists under more than one engine/instance and the filter does not pick one.
   */
  async find(backupId: string, filter: LatestFilter = {}): Promise<CatalogEntry> {
    return (await this.locate(backupId, filter)).entry;
  }

  /** {@link find}, and the listing of the backup's folder it was found by. */
  private async locate(backupId: string, filter: LatestFilter): Promise<{ entry: CatalogEntry; listed?: FolderListing }> {
    const listedIn = (group: Group): FolderListing | undefined => group.sizes && { folder: `${folderOfBackup(group)}/`, sizes: group.sizes };
    const folders = await this.backupFolders(filter);
    if (backupId === 'latest') {
      const instances = [...new Set(folders.map((f) => `${f.engine}/${f.instance}`))];
      if (instances.length > 1) {
        // The newest backup of any of them is rarely the one meant: a restore names both, and so must this.
        throw new PermanentError(
          `\`latest\` of which instance? ${this.store.url} holds backups of ${nameSome(instances.sort())}: say which with --engine and --instance`,
          { code: 'BACKUP_AMBIGUOUS' },
        );
      }
      const wanted = filter.restoreVerified ? isRestoreVerified : filter.restorable ? isRestorable : isVerified;
      const passedOver: PassedOver[] = []; // the words only: a manifest each would grow with the backups passed over
      let newest: { entry: CatalogEntry; why: string } | undefined;
      // A restore takes only a backup whose chain holds; the links read on the way are kept (a chain
      // is read once however many of its backups are passed over).
      const forRestore = filter.restorable === true || filter.restoreVerified === true;
      const read = new Map<string, CatalogEntry>();
      for (const folder of folders) {
        if (!(await this.store.head(manifestKey(folderOfBackup(folder))))) continue; // not complete: not listed
        const group = await this.groupIn(folder);
        if (!group) continue;
        const entry = await this.entry(group);
        read.set(`${entry.engine}/${entry.instance}/${entry.backupId}`, entry);
        const broken = forRestore && wanted(entry)
          ? await this.brokenChain(entry as CatalogEntry & { manifest: BackupManifest }, folders, read) ?? await filter.serves?.(entry as CatalogEntry & { manifest: BackupManifest }, listedIn(group))
          : undefined;
        if (wanted(entry) && broken === undefined) return { entry: passedOver.length === 0 ? entry : { ...entry, passedOver }, listed: listedIn(group) };
        const why = broken ?? whyNot(entry);
        newest ??= { entry, why };
        if (passedOver.length < PASSED_OVER_NAMED) passedOver.push({ backupId: entry.backupId, why: why.length > PASSED_OVER_WHY_CHARS ? `${why.slice(0, PASSED_OVER_WHY_CHARS)}…` : why });
      }
      const scope = [filter.engine, filter.instance].filter(Boolean).join('/') || 'this store';
      if (folders.length === 0 && (filter.engine || filter.instance)) throw await this.noBackupsOf(scope, filter);
      const what = filter.restoreVerified ? 'restore-verified backup (one a drill restored and validated)' : 'verified backup';
      const seen = newest ? `; the newest, ${newest.entry.backupId} (${newest.entry.engine}/${newest.entry.instance}), ${newest.why} — name it by id to look at it` : '';
      throw new PermanentError(`no ${what} found for ${scope} in ${this.store.url}${seen}`, { code: 'BACKUP_NOT_FOUND' });
    }
    const groups = (await Promise.all(folders.filter((f) => f.backupId === backupId).map((f) => this.groupIn(f)))).filter((g): g is Group => g !== undefined);
    const found = await Promise.all(groups.map((g) => this.entry(g)));
    if (found.length === 0) {
      const elsewhere = filter.engine || filter.instance ? (await this.backupFolders({})).filter((f) => f.backupId === backupId) : [];
      const scope = elsewhere.length > 0 ? ` under ${[filter.engine, filter.instance].filter(Boolean).join('/')}` : '';
      const there = elsewhere.length > 0 ? ` (it is under ${elsewhere.map((f) => `${f.engine}/${f.instance}`).join(', ')})` : '';
      throw new PermanentError(`backup ${backupId} not found${scope} in ${this.store.url}${there}`, { code: 'BACKUP_NOT_FOUND' });
    }
    if (found.length > 1) {
      const places = found.map((e) => `${e.engine}/${e.instance}`).join(', ');
      throw new PermanentError(
        `backup id ${backupId} is ambiguous: it exists under ${places} in ${this.store.url}; say which with --engine and --instance`,
        { code: 'BACKUP_AMBIGUOUS' },
      );
    }
    const [entry] = found;
    if (isIncomplete(entry)) {
      throw new PermanentError(`backup ${backupId} is incomplete (no manifest.json): it crashed or is still running`, { code: 'BACKUP_INCOMPLETE' });
    }
    return { entry, listed: listedIn(groups[0]) };
  }

  /**
   * One backup whose manifest can be read, by id or `latest` — what `verify` and `restore` need.
   * @throws as {@link find}, and PermanentError `BACKUP_DAMAGED` (a corrupt backup, not bad input)
   *   when its manifest.json cannot be read.
   */
  async get(backupId: string, filter: LatestFilter = {}): Promise<CatalogEntry & { manifest: BackupManifest; listed?: FolderListing }> {
    const { entry, listed } = await this.locate(backupId, filter);
    if (!entry.manifest) {
      const why = entry.damage ? `${entry.damage.file}: ${entry.damage.reason}` : 'its manifest.json cannot be read';
      throw new PermanentError(`backup ${entry.backupId} (${entry.engine}/${entry.instance}) is damaged: ${why}`, { code: 'BACKUP_DAMAGED' });
    }
    return { ...entry as CatalogEntry & { manifest: BackupManifest }, ...(listed ? { listed } : {}) };
  }

  /**
   * Why the chain of incremental backup `entry` cannot be restored (a backup it rests on gone or
   * not verified, backup-chain.ts), reading its links' records from `folders` unless `read` holds
   * them (and keeping them there); undefined when it can.
   */
  private async brokenChain(entry: CatalogEntry & { manifest: BackupManifest }, folders: readonly BackupFolder[], read: Map<string, CatalogEntry>): Promise<string | undefined> {
    const links: CatalogEntry[] = [entry];
    for (let child: CatalogEntry = entry; child.manifest?.extends !== undefined && links.length <= MAX_CHAIN_LINKS;) {
      const key = `${entry.engine}/${entry.instance}/${child.manifest.extends}`;
      let base = read.get(key);
      if (base === undefined) {
        const baseId = child.manifest.extends;
        const folder = folders.find((f) => f.engine === entry.engine && f.instance === entry.instance && f.backupId === baseId);
        const group = folder && await this.groupIn(folder);
        if (!group) break;
        base = await this.entry(group);
        read.set(key, base);
      }
      child = base;
      links.push(child);
    }
    try {
      resolveChain(entry, links);
      return undefined;
    } catch (error) {
      return `rests on a broken chain (${(error as Error).message})`;
    }
  }

  /**
   * The error for a filter under which the store holds no backup at all (a mistyped engine or
   * instance, most likely): it names what the store does hold, so the typo shows.
   */
  private async noBackupsOf(scope: string, filter: CatalogFilter): Promise<PermanentError> {
    const engines = (await subfolders(this.store, `${BACKUPS_ROOT}/`)).filter(isName);
    const knownEngine = filter.engine !== undefined && engines.includes(filter.engine);
    const held = knownEngine
      ? `its ${filter.engine} instances: ${nameSome((await subfolders(this.store, `${BACKUPS_ROOT}/${filter.engine}/`)).filter(isName))}`
      : `its engines: ${nameSome(engines)}`;
    return new PermanentError(`no backups of ${scope} in ${this.store.url} (${held})`, { code: 'BACKUP_NOT_FOUND' });
  }

  /** Reads one backup's manifest and verification record; unreadable ones become its damage. */
  private async entry(group: Group): Promise<CatalogEntry> {
    const prefix = folderOfBackup(group);
    const entry: CatalogEntry = {
      backupId: group.backupId,
      engine: group.engine,
      instance: group.instance,
      prefix,
      complete: false,
      status: 'incomplete',
      createdAt: backupIdTime(group.backupId) ?? new Date(0),
      storedBytes: group.bytes,
    };
    const manifest = group.hasManifest ? await readManifest(this.store, prefix) : undefined;
    if (manifest && 'damage' in manifest) return { ...entry, status: 'damaged', damage: manifest.damage };
    if (!manifest) return entry;
    Object.assign(entry, { complete: true, status: 'complete', manifest: manifest.value, createdAt: new Date(manifest.value.startedAt) });
    if (group.sizes) {
      const own = manifest.value.artifacts.filter((artifact) => backupFolder(artifact.key) === `${prefix}/`);
      const unstored = await artifactNotStored(this.store, own, { folder: `${prefix}/`, sizes: group.sizes });
      if (unstored) entry.unstored = unstored.what;
    }
    const verification = group.hasVerification ? await readVerification(this.store, prefix) : undefined;
    if (verification && 'damage' in verification) return { ...entry, status: 'damaged', damage: verification.damage };
    // A record of another manifest (edited since it was verified, or another backup's) says nothing about this one.
    const recorded = verification?.value.manifestSha256;
    const current = verification?.value.backupId === manifest.value.backupId && (recorded === undefined || recordIsFor(recorded, manifest.value));
    if (verification && current) entry.verification = verification.value;
    const drill = group.hasDrill ? await readDrill(this.store, prefix) : undefined;
    if (drill && 'damage' in drill) return { ...entry, status: 'damaged', damage: drill.damage };
    if (drill?.value.backupId === manifest.value.backupId && recordIsFor(drill.value.manifestSha256, manifest.value)) entry.drill = drill.value;
    return entry;
  }
}
