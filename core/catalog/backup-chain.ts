/**
 * The chain of an incremental backup: the backups it extends (manifest `extends`), one after the
 * other, back to the full backup they all rest on. A restore applies the whole chain, full backup
 * first; an incremental backup extends only a backup whose chain holds; prune keeps every backup a
 * kept one extends (prune.ts).
 *
 * Every link must be older than the backup extending it (backup ids sort by time), so a walk down
 * a chain always ends, whatever the manifests say: an edited manifest cannot make a cycle. A chain
 * longer than {@link MAX_CHAIN_LINKS} is refused rather than walked.
 */
import { PermanentError } from '../errors';
import { isVerified, type CatalogEntry } from './catalog';
import type { BackupManifest } from './manifest';

/** Most backups one incremental backup may rest on. */
export const MAX_CHAIN_LINKS = 1000;

/** A catalog entry whose manifest could be read. */
export type CompleteEntry = CatalogEntry & { manifest: BackupManifest };

/**
 * The backups `entry` extends, the full backup first, each found among `entries` (the catalog of
 * its engine and instance) complete and verified: validated, not damaged, and not failed by a
 * re-verification (catalog.ts `isVerified`). Empty for a full backup.
 * @throws PermanentError `CHAIN_BROKEN` naming the link that fails and why, or `CHAIN_TOO_LONG`.
 */
export function resolveChain(entry: CompleteEntry, entries: readonly CatalogEntry[]): CompleteEntry[] {
  const byId = new Map(entries.filter((e) => e.engine === entry.engine && e.instance === entry.instance).map((e) => [e.backupId, e]));
  const bases: CompleteEntry[] = [];
  let child: CompleteEntry = entry;
  while (child.manifest.extends !== undefined) {
    const baseId = child.manifest.extends;
    if (bases.length === MAX_CHAIN_LINKS) {
      throw new PermanentError(`backup ${entry.backupId} (${entry.engine}/${entry.instance}) rests on more than ${MAX_CHAIN_LINKS} backups; a chain that long is refused`, { code: 'CHAIN_TOO_LONG', engine: entry.engine });
    }
    const base = byId.get(baseId);
    const why = baseId >= child.backupId ? 'is not older than it (a backup extends only an earlier one)' : unusable(base);
    if (why !== undefined) {
      const who = child === entry ? 'it' : `${child.backupId}, which it rests on,`;
      throw new PermanentError(
        `the chain of backup ${entry.backupId} (${entry.engine}/${entry.instance}) is broken: ${who} extends ${baseId}, which ${why}`,
        { code: 'CHAIN_BROKEN', engine: entry.engine },
      );
    }
    bases.push(base as CompleteEntry);
    child = base as CompleteEntry;
  }
  return bases.reverse();
}

/** Why `base` cannot be a link of a chain, or undefined when it can. */
function unusable(base: CatalogEntry | undefined): string | undefined {
  if (!base) return 'is not among the complete backups in the store (deleted, or never completed)';
  if (base.damage) return `is damaged (${base.damage.file}: ${base.damage.reason})`;
  if (!base.manifest) return 'has no readable manifest';
  if (!base.manifest.validation.ok) return 'did not pass validation';
  if (base.verification?.ok === false) return `failed its last verification (${base.verification.verifiedAt})`;
  return isVerified(base) ? undefined : 'is not verified';
}

/**
 * Why each backup of `entries` cannot be restored for its chain (undefined when its chain holds, a
 * full backup's included), each chain walked once for all of them: a listing of thousands of
 * incremental backups is checked in one pass, not one walk per backup.
 */
export function chainProblems(entries: readonly CatalogEntry[]): (entry: CatalogEntry) => string | undefined {
  const known = new Map<string, string | undefined>();
  const key = (e: CatalogEntry) => `${e.engine}/${e.instance}/${e.backupId}`;
  const byKey = new Map(entries.map((e) => [key(e), e]));
  const problemOf = (entry: CatalogEntry): string | undefined => {
    if (known.has(key(entry))) return known.get(key(entry));
    let problem: string | undefined;
    const baseId = entry.manifest?.extends;
    if (baseId !== undefined) {
      const base = byKey.get(`${entry.engine}/${entry.instance}/${baseId}`);
      // A base that holds (itself and its own chain, remembered) makes a chain of one link to check.
      problem = base !== undefined && baseId < entry.backupId && unusable(base) === undefined && problemOf(base) === undefined
        ? undefined
        : chainError(entry as CompleteEntry, linksOf(entry));
    }
    known.set(key(entry), problem);
    return problem;
  };
  /** `entry` and the backups it rests on that are there, as far as the chain goes (for its error's words). */
  const linksOf = (entry: CatalogEntry): CatalogEntry[] => {
    const links = [entry];
    for (let child = entry; child.manifest?.extends !== undefined && links.length <= MAX_CHAIN_LINKS + 1;) {
      const base = byKey.get(`${entry.engine}/${entry.instance}/${child.manifest.extends}`);
      if (base === undefined || base.backupId >= child.backupId) break;
      links.push(base);
      child = base;
    }
    return links;
  };
  // Oldest first: each backup's base is known before it, so no walk goes deeper than one link.
  for (const entry of [...entries].sort((a, b) => a.backupId.localeCompare(b.backupId))) problemOf(entry);
  return problemOf;
}

/** {@link resolveChain}'s error for `entry`, in words, or undefined when its chain holds. */
function chainError(entry: CompleteEntry, entries: readonly CatalogEntry[]): string | undefined {
  try {
    resolveChain(entry, entries);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
