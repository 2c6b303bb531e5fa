/**
 * The marker a restore writes next to the data dir (`<dataDir>.restore.json`) right before it
 * replaces the data dir: which backup is being put there, and by which restore (its spool
 * directory, unique per restore and the same for its retries). A retry of the same backup
 * recognises the data dir as its own; a failed restore's cleanup recognises its own half-written
 * data dir and the member it started there (restore-cleanup.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface EtcdRestoreMarker {
  backupId: string;
  /** The spool directory of the restore that wrote it (absent in markers of older versions). */
  spoolDir?: string;
  startedAt: string;
  /** Set once the restore finished: the data dir holds the whole backup. */
  done?: boolean;
}

/** The marker's file next to `dataDir`. */
export function markerFile(dataDir: string): string {
  return `${path.resolve(dataDir)}.restore.json`;
}

/** Writes the marker: `dataDir` is about to be replaced by this restore. */
export async function writeRestoreMarker(dataDir: string, marker: Omit<EtcdRestoreMarker, 'startedAt'>): Promise<void> {
  await writeFile(markerFile(dataDir), `${JSON.stringify({ ...marker, startedAt: new Date().toISOString() } satisfies EtcdRestoreMarker)}\n`);
}

/** Marks the restore finished: the data dir holds the whole backup (and, asked for, its member runs). */
export async function markRestoreDone(dataDir: string): Promise<void> {
  const marker = await readRestoreMarker(dataDir);
  if (marker) await writeFile(markerFile(dataDir), `${JSON.stringify({ ...marker, done: true } satisfies EtcdRestoreMarker)}\n`);
}

/** The marker next to `dataDir`, or undefined when there is none (or it is unreadable). */
export async function readRestoreMarker(dataDir: string): Promise<EtcdRestoreMarker | undefined> {
  return readFile(markerFile(dataDir), 'utf8').then((text) => JSON.parse(text) as EtcdRestoreMarker).catch(() => undefined);
}
