/**
 * Restore side of the ZooKeeper driver: a host-local backup onto a whole ensemble (or a standalone
 * server) on this host (host-local/restore.ts), a logical backup into any running ensemble
 * (logical-restore.ts); then every member is proven to serve the backup's tree.
 */
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import type { PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationReport } from '../../core/driver/types';
import type { HostLocalTarget, LogicalTarget, ZooKeeperRestoreTarget } from './config';
import { cleanupHostLocal } from './host-local/restore-cleanup';
import { memberDirsOf } from './host-local/restored-members';
import { prepareHostLocal, restoreHostLocal } from './host-local/restore';
import { cleanupLogical, prepareLogical, restoreLogical } from './logical-restore';
import { validateRestoredTree } from './restore-validation';

type Ctx<T> = RestoreContext<T>;

function hostLocal(ctx: Ctx<ZooKeeperRestoreTarget>): ctx is Ctx<HostLocalTarget> {
  return ctx.target.mode === 'host-local';
}

export class ZooKeeperRestoreDriver implements RestoreDriver<ZooKeeperRestoreTarget> {
  /** The target's client addresses. */
  endpoint(target: ZooKeeperRestoreTarget): string {
    return target.mode === 'logical' ? [...target.servers].sort().join(',') : target.members.map((m) => `${m.host}:${m.clientPort}`).sort().join(',');
  }

  /** Host-local: every member's dataDir and dataLogDir. Logical: none (the tree is written over the network). */
  replacedPaths(target: ZooKeeperRestoreTarget): string[] {
    return target.mode === 'logical' ? [] : target.members.flatMap(memberDirsOf);
  }

  /** Logical: the servers whose tree a forced restore deletes. */
  replacedServers(target: ZooKeeperRestoreTarget): string[] {
    return target.mode === 'logical' ? [...target.servers] : [];
  }

  prepareTarget(ctx: Ctx<ZooKeeperRestoreTarget>): Promise<PreparedTarget> {
    return hostLocal(ctx) ? prepareHostLocal(ctx) : prepareLogical(ctx as Ctx<LogicalTarget>);
  }

  restore(ctx: Ctx<ZooKeeperRestoreTarget>, _prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    return hostLocal(ctx) ? restoreHostLocal(ctx, transfer) : restoreLogical(ctx as Ctx<LogicalTarget>, transfer);
  }

  validateRestore(ctx: Ctx<ZooKeeperRestoreTarget>, _result: RestoreResult): Promise<ValidationReport> {
    return validateRestoredTree(ctx);
  }

  /** Host-local: stops the servers this restore started and says what each member's dirs hold. Logical: the tree's state. */
  async cleanup(ctx: Ctx<ZooKeeperRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
    return hostLocal(ctx) ? cleanupHostLocal(ctx, progress) : cleanupLogical(ctx as Ctx<LogicalTarget>, progress);
  }
}
