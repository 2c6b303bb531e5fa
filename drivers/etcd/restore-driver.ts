/**
 * Restore side of the etcd driver: the snapshot is downloaded (sha256 re-checked), restored with
 * `snapshot restore` into fresh data dirs as a NEW cluster of one or more members (new cluster
 * token, new cluster id), started, and then proven equal to the backup by comparing the kv digest
 * at the recorded revision on every member. Each step lives in its own file:
 * restore-prepare.ts, restore-apply.ts, restore-validate.ts, restore-cleanup.ts.
 */
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import type {
  NodeRef, PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, StagedFiles, TransferOptions, ValidationReport,
} from '../../core/driver/types';
import { detectEtcdTool, type EtcdTool } from './etcd-tools';
import { membersOn, nodesByHost } from '../../core/driver/node-ref';
import { applyEtcdRestore, stageEtcdRestore, startEtcdRestore } from './restore-apply';
import { cleanupEtcdRestore } from './restore-cleanup';
import { prepareEtcdTarget } from './restore-prepare';
import { isClusterTarget, targetMembers, type EtcdRestoreTarget } from './restore-target';
import { validateEtcdRestore } from './restore-validate';
import type { EtcdDriverOptions } from './backup-driver';
import { etcdScratch } from './scratch';

/**
 * Restores an etcd backup into a new cluster described by {@link EtcdRestoreTarget}: one member, or
 * several, on one host or each on its own. The restored cluster keeps the backup's revision, keys, leases, users and
 * roles, but gets a new cluster id (from the new cluster token), so it can never join or confuse
 * the original cluster.
 */
export class EtcdRestoreDriver implements RestoreDriver<EtcdRestoreTarget> {
  /** The empty target on this host a restore drill restores into. */
  readonly scratch = etcdScratch;

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

  /** A forced restore replaces the data dir of every member on the node's host. */
  replacedPaths(target: EtcdRestoreTarget, node: NodeRef): string[] {
    return membersOn(targetMembers(target), node).map((m) => m.dataDir);
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
   * Restores the staged snapshot into the data dir of every member on this node. Idempotent: a
   * retry stops the members it started and starts over (restore-apply.ts).
   */
  restore(ctx: RestoreContext<EtcdRestoreTarget>, _prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    return applyEtcdRestore(ctx, transfer, this.snapshotTool());
  }

  /** One node per host the members name (`host`): one for a target on one host. */
  targetNodes(target: EtcdRestoreTarget): NodeRef[] {
    return nodesByHost(targetMembers(target));
  }

  /** Downloads the snapshot into this node's spool and verifies it, touching no data dir (restore-apply.ts). */
  stage(ctx: RestoreContext<EtcdRestoreTarget>, transfer: TransferOptions): Promise<StagedFiles> {
    return stageEtcdRestore(ctx, transfer);
  }

  /** Starts this node's members with every other node's, when `target.start` (restore-apply.ts). */
  start(ctx: RestoreContext<EtcdRestoreTarget>, result: RestoreResult): Promise<RestoreResult> {
    return startEtcdRestore(ctx, result);
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
