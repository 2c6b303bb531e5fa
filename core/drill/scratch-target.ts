/**
 * A scratch target: an empty server started on this host for one restore drill, and torn down
 * after it. Each built-in driver brings the way to start one (its `scratch.ts`, the restore
 * driver's `scratch`), shaped by the backup it is to receive (the number of shards, partitions or
 * nodes it records).
 *
 * A scratch target lives in its own directory (spool-layout.ts `drillRunDir`) and everything it
 * runs names a path in it, so tearing it down needs no record: stop every process whose command
 * line names that directory — the scratch servers and what the restore into them started — and
 * remove it ({@link tearDownScratch}). Start and teardown so run in different processes, as the
 * host steps of a drill do.
 */
import { rm } from 'node:fs/promises';
import type { BackupManifest } from '../catalog/manifest';
import { stopProcessesNaming } from '../host/processes-naming';
import { ownerFileOf } from '../runs/run-dir';
import type { Logger } from '../logger';

export interface ScratchTarget {
  /** The driver's restore target for it. */
  target: Record<string, unknown>;
  /** In words, for the drill record: `a scratch MariaDB on this host`. */
  description: string;
}

export interface ScratchTargets {
  /**
   * Starts an empty target under `workDir` that can take a restore of `backup`. A start that fails
   * may leave servers behind: the caller tears `workDir` down either way.
   */
  start(workDir: string, backup: Pick<BackupManifest, 'consistency' | 'facts'>, logger: Logger): Promise<ScratchTarget>;
}

/** How long a scratch server gets to stop after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 60_000;

/** Stops everything running from `workDir` and removes it, and its owner record (drill-steps.ts). Idempotent. */
export async function tearDownScratch(workDir: string): Promise<{ stopped: number }> {
  const stopped = await stopProcessesNaming(workDir, STOP_TIMEOUT_MS);
  await rm(workDir, { recursive: true, force: true });
  await rm(ownerFileOf(workDir), { force: true }); // last: a crash in between leaves a record, never an unowned directory
  return { stopped: stopped.length };
}
