/**
 * A scratch target: an empty server started on this host for one restore drill, and torn down
 * after it. Each built-in driver brings the way to start one (its `scratch.ts`), shaped by the
 * backup it is to receive (the number of shards, partitions or nodes it records); `npm start`'s
 * demo restores into one too.
 */
import type { BackupManifest } from '../catalog/manifest';
import type { Logger } from '../logger';

export interface ScratchTarget {
  /** The driver's restore target for it. */
  target: Record<string, unknown>;
  /** In words, for the drill record: `scratch MariaDB on this host`. */
  description: string;
  /** Stops every server it (and the restore into it) started; its files go with the work dir. */
  stop(): Promise<void>;
}

export interface ScratchTargets {
  /** Starts an empty target under `workDir` that can take a restore of `backup`. */
  start(workDir: string, backup: Pick<BackupManifest, 'consistency' | 'facts'>, logger: Logger): Promise<ScratchTarget>;
}
