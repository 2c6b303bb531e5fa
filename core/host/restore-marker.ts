/**
 * The marker a restore writes next to a data directory (`<dataDir>.restore.json`) before it
 * replaces what is inside: which backup is being put there, and by which restore (its spool
 * directory, unique per restore and the same for each retry of it). A retry recognises the
 * half-written data dir as its own and replaces it without `force`; data it did not write is never
 * taken for its own. Once the whole restore has finished the marker is marked `done`, so a failed
 * restore's cleanup tells a half-written data dir from a finished one and from one it never
 * touched. The marker sits beside the data dir, never in it, so it is no part of the data.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface RestoreMarker {
  backupId: string;
  /** The spool directory of the restore that wrote it (absent in markers older versions wrote). */
  spoolDir?: string;
  startedAt: string;
  /** Set once the whole restore finished: the data dir holds the whole backup. */
  done?: boolean;
}

/** Which restore is asking: the backup it restores and its own spool directory. */
export interface RestoreIdentity {
  backupId: string;
  spoolDir: string;
}

/** The marker's file next to `dataDir`. */
export function restoreMarkerFile(dataDir: string): string {
  return `${path.resolve(dataDir)}.restore.json`;
}

/** The marker next to `dataDir`, or undefined when there is none (or it is unreadable). */
export async function readRestoreMarker(dataDir: string): Promise<RestoreMarker | undefined> {
  try {
    return JSON.parse(await readFile(restoreMarkerFile(dataDir), 'utf8')) as RestoreMarker;
  } catch {
    return undefined;
  }
}

/** Records that `restore` is about to replace `dataDir`'s contents. */
export async function writeRestoreMarker(dataDir: string, restore: RestoreIdentity): Promise<void> {
  const marker: RestoreMarker = { backupId: restore.backupId, spoolDir: restore.spoolDir, startedAt: new Date().toISOString() };
  await writeFile(restoreMarkerFile(dataDir), `${JSON.stringify(marker)}\n`);
}

/** Forgets the marker. */
export async function removeRestoreMarker(dataDir: string): Promise<void> {
  await rm(restoreMarkerFile(dataDir), { force: true });
}

/** The marker next to `dataDir` when `restore` itself wrote it (the same backup and spool dir), or undefined. */
export async function ownRestoreMarker(dataDir: string, restore: RestoreIdentity): Promise<RestoreMarker | undefined> {
  const marker = await readRestoreMarker(dataDir);
  return marker?.backupId === restore.backupId && marker.spoolDir === restore.spoolDir ? marker : undefined;
}

/** Marks `restore`'s own marker next to `dataDir` finished (nothing when the marker is another's). */
export async function markRestoreDone(dataDir: string, restore: RestoreIdentity): Promise<void> {
  const marker = await ownRestoreMarker(dataDir, restore);
  if (marker) await writeFile(restoreMarkerFile(dataDir), `${JSON.stringify({ ...marker, done: true } satisfies RestoreMarker)}\n`);
}

/**
 * True when the marker next to `dataDir` was left by `restore` itself: the same backup, and the
 * same restore (a marker without a spool directory, from an older version, names the backup only).
 */
export async function isOwnRestore(dataDir: string, restore: RestoreIdentity): Promise<boolean> {
  const marker = await readRestoreMarker(dataDir);
  return marker !== undefined && marker.backupId === restore.backupId && (marker.spoolDir === undefined || marker.spoolDir === restore.spoolDir);
}
