/**
 * Restore side of the ZooKeeper driver: a host-local backup onto a whole ensemble (or a standalone
 * server), its members on one host or each on its own (host-local/restore.ts), a logical backup
 * into any running ensemble (logical-restore.ts); then every member is proven to serve the
 * backup's tree.
 */
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import { membersOn, nodesByHost } from '../../core/driver/node-ref';
import type { NodeRef, PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, StagedFiles, TransferOptions, ValidationReport } from '../../core/driver/types';
import type { HostLocalTarget, LogicalTarget, ZooKeeperRestoreTarget } from './config';
import { cleanupHostLocal } from './host-local/restore-cleanup';
import { clientAddress, memberDirsOf } from './host-local/restored-members';
import { prepareHostLocal, restoreHostLocal, stageHostLocal, startHostLocal } from './host-local/restore';
import { cleanupLogical, prepareLogical, restoreLogical } from './logical-restore';
import { validateRestoredTree } from './restore-validation';
import { zookeeperScratch } from './scratch';

type Ctx<T> = RestoreContext<T>;

function hostLocal(ctx: Ctx<ZooKeeperRestoreTarget>): ctx is Ctx<HostLocalTarget> {
  return ctx.target.mode === 'host-local';
}

export class ZooKeeperRestoreDriver implements RestoreDriver<ZooKeeperRestoreTarget> {
  /** The empty target on this host a restore drill restores into. */
  readonly scratch = zookeeperScratch;

  /** The target's client addresses. */
  endpoint(target: ZooKeeperRestoreTarget): string {
    return target.mode === 'logical' ? [...target.servers].sort().join(',') : target.members.map(clientAddress).sort().join(',');
  }

  /** Host-local: the dataDir and dataLogDir of every member on the node's host. Logical: none (the tree is written over the network). */
  replacedPaths(target: ZooKeeperRestoreTarget, node: NodeRef): string[] {
    return target.mode === 'logical' ? [] : membersOn(target.members, node).flatMap(memberDirsOf);
  }

  /** Logical: the servers whose tree a forced restore deletes. */
  replacedServers(target: ZooKeeperRestoreTarget): string[] {
    return target.mode === 'logical' ? [...target.servers] : [];
  }

  /** Host-local: one node per host the members name (`host`); logical: the request's host. */
  targetNodes(target: ZooKeeperRestoreTarget): NodeRef[] {
    return target.mode === 'logical' ? nodesByHost([{}]) : nodesByHost(target.members);
  }

  prepareTarget(ctx: Ctx<ZooKeeperRestoreTarget>): Promise<PreparedTarget> {
    return hostLocal(ctx) ? prepareHostLocal(ctx) : prepareLogical(ctx as Ctx<LogicalTarget>);
  }

  /** Host-local: downloads and proves the files on this node. Logical: nothing (the tree streams from the store as it is written). */
  async stage(ctx: Ctx<ZooKeeperRestoreTarget>, transfer: TransferOptions): Promise<StagedFiles> {
    return hostLocal(ctx) ? stageHostLocal(ctx, transfer) : { bytes: 0 };
  }

  restore(ctx: Ctx<ZooKeeperRestoreTarget>, _prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    return hostLocal(ctx) ? restoreHostLocal(ctx, transfer) : restoreLogical(ctx as Ctx<LogicalTarget>, transfer);
  }

  /** Host-local: starts this node's members, with every other node's at once. Logical: the ensemble runs already. */
  async start(ctx: Ctx<ZooKeeperRestoreTarget>, result: RestoreResult): Promise<RestoreResult> {
    return hostLocal(ctx) ? startHostLocal(ctx, result) : result;
  }

  validateRestore(ctx: Ctx<ZooKeeperRestoreTarget>, _result: RestoreResult): Promise<ValidationReport> {
    return validateRestoredTree(ctx);
  }

  /** Host-local: stops the servers this restore started and says what each member's dirs hold. Logical: the tree's state. */
  async cleanup(ctx: Ctx<ZooKeeperRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
    return hostLocal(ctx) ? cleanupHostLocal(ctx, progress) : cleanupLogical(ctx as Ctx<LogicalTarget>, progress);
  }
}
