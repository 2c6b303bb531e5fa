/**
 * What a restore driver reports after a failed restore ({@link RestoreDriver.cleanup}): what the
 * target holds now, in a word and in a sentence, and what it stopped. The word is for machines
 * (the failure record, tests); the sentence ends up in the execution's failure cause, so an
 * operator is never left to guess whether the target's old data is still there.
 */
import type { PreparedTarget, RestoreResult } from './types';

/**
 * - `untouched`: the target is as it was before the restore (nothing was written to it);
 * - `partial`: the restore had begun writing and did not finish (its old data may be gone);
 * - `restored`: the restore finished; what failed came after it (validation, the report);
 * - `unknown`: it could not be found out (the cleanup itself failed).
 */
export const TARGET_CONDITIONS = ['untouched', 'partial', 'restored', 'unknown'] as const;
export type TargetCondition = (typeof TARGET_CONDITIONS)[number];

/** How far the failed restore got: what its steps recorded. */
export interface RestoreProgress {
  /** The prepared target, when the prepare step finished. */
  prepared?: PreparedTarget;
  /** The restore's result, when the restore step finished. */
  result?: RestoreResult;
}

/** What the cleanup found and did. */
export interface RestoreCleanup {
  target: TargetCondition;
  /** The target's state in a sentence: which data dir or databases, whether old data is gone, what to do. */
  detail: string;
  /** What the restore had started and the cleanup stopped (an etcd member, a server), one line each. */
  stopped: string[];
}

/**
 * The account of a data dir a restore replaces (etcd's, a physical MySQL restore's), in the same
 * words for every driver: the driver finds the condition (from its markers), this says it.
 */
export function dataDirCleanup(
  dataDir: string,
  condition: Exclude<TargetCondition, 'unknown'>,
  facts: {
    backupId: string;
    /** The data dir held data before the restore. */
    replaced: boolean;
    stopped: string[];
    /** How it holds the backup, when restored (default `as restored`; a replay says how far it went). */
    restoredAs?: string;
  },
): RestoreCleanup {
  const { backupId, replaced, stopped } = facts;
  const detail = {
    restored: `${dataDir} holds backup ${backupId} ${facts.restoredAs ?? 'as restored'}${replaced ? ' in place of its previous contents' : ''}; the failure came after the restore`,
    partial: `${dataDir} holds an unfinished restore of backup ${backupId}${replaced ? '; its previous contents were deleted' : ''}: restore it again (with force) or remove it`,
    untouched: `${dataDir} was not written to${replaced ? ' and keeps its previous contents' : ''}`,
  }[condition];
  return { target: condition, detail: stopped.length > 0 ? `${detail}; stopped what the restore started: ${stopped.join(', ')}` : detail, stopped };
}
