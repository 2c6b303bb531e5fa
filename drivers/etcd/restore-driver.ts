/**
 * Restore side of the etcd driver: the snapshot is downloaded (sha256 re-checked), restored with
 * `snapshot restore` into fresh data dirs as a NEW cluster of one or more members (new cluster
 * token, new cluster id), started, and then proven equal to the backup by comparing the kv digest
 * at the recorded revision on every member. Each step lives in its own file:
 * restore-prepare.ts, restore-apply.ts, restore-validate.ts, restore-cleanup.ts.
 */
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import type {
  PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationReport,
} from '../../core/driver/types';
import { detectEtcdTool, type EtcdTool } from './etcd-tools';
import { applyEtcdRestore } from './restore-apply';
import { cleanupEtcdRestore } from './restore-cleanup';
import { prepareEtcdTarget } from './restore-prepare';
import { isClusterTarget, targetMembers, type EtcdRestoreTarget } from './restore-target';
import { validateEtcdRestore } from './restore-validate';
import type { EtcdDriverOptions } from './backup-driver';

/**
 * Restores an etcd backup into a new cluster described by {@link EtcdRestoreTarget}: one member, or
 * several on this host. The restored cluster keeps the backup's revision, keys, leases, users and
 * roles, but gets a new cluster id (from the new cluster token), so it can never join or confuse
 * the original cluster.
 */
export class EtcdRestoreDriver implements RestoreDriver<EtcdRestoreTarget> {
  private tool?: EtcdTool;

  constructor(options: EtcdDriverOptions = {}) {
    this.tool = options.tool;
  }

  private snapshotTool(): EtcdTool {
    this.tool ??= detectEtcdTool();
    return this.tool;
  }

  /** The restored member's client URL (a cluster's, sorted and comma-separated): what the circuit breaker protects. */
  endpoint(target: EtcdRestoreTarget): string {
    if (!isClusterTarget(target)) return target.clientUrl;
    return target.members.map((m) => m.clientUrl).sort().join(',');
  }

  /** A forced restore replaces every member's data dir. */
  replacedPaths(target: EtcdRestoreTarget): string[] {
    return targetMembers(target).map((m) => m.dataDir);
  }

  /**
   * Refuses a non-empty data dir (`TARGET_NOT_EMPTY`) unless forced or it holds this restore's own
   * unfinished work, a member it may not stop (`SERVER_NOT_STARTED_BY_RESTORE`), a busy port
   * (`TARGET_PORT_IN_USE`); for every member. Idempotent and never destructive (restore-prepare.ts).
   */
  prepareTarget(ctx: RestoreContext<EtcdRestoreTarget>): Promise<PreparedTarget> {
    return prepareEtcdTarget(ctx);
  }

  /**
   * Downloads and verifies the snapshot, restores it into every member's data dir and starts the
   * members together when `target.start`. Idempotent: a retry stops the members it started and
   * starts over (restore-apply.ts).
   */
  restore(ctx: RestoreContext<EtcdRestoreTarget>, _prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    return applyEtcdRestore(ctx, transfer, this.snapshotTool());
  }

  /** After a failed restore: stops the members this restore started and says what the data dirs hold (restore-cleanup.ts). */
  cleanup(ctx: RestoreContext<EtcdRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
    return cleanupEtcdRestore(ctx, progress);
  }

  /**
   * Compares every restored member with the backup (and a cluster's members with each other):
   * restore-validate.ts. Mismatches give `ok: false`; an unreachable member throws (TransientError).
   */
  validateRestore(ctx: RestoreContext<EtcdRestoreTarget>, result: RestoreResult): Promise<ValidationReport> {
    return validateEtcdRestore(ctx, result);
  }
}
