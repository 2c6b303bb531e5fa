/**
 * Restore side of the MySQL/MariaDB driver: a logical load into a target server, or a physical
 * restore into a new data dir on this host; then, when asked, a replay of archived binary logs up
 * to a time or GTID. Validation compares every table's rows and digest with the manifest.
 */
import type {
  PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationReport,
} from '../../core/driver/types';
import type { MysqlRestoreTarget } from './config';
import type { MysqlFacts } from './layout';
import { prepareLogicalTarget, restoreLogical, validateTables } from './logical-restore';
import { preparePhysicalTarget, restorePhysical } from './physical-restore';
import { replayBinlogs, validatePointInTime } from './point-in-time';

const isPhysical = (ctx: RestoreContext<MysqlRestoreTarget>): boolean => (ctx.backup.facts as MysqlFacts).mode === 'physical';

export class MysqlRestoreDriver implements RestoreDriver<MysqlRestoreTarget> {
  async prepareTarget(ctx: RestoreContext<MysqlRestoreTarget>): Promise<PreparedTarget> {
    return isPhysical(ctx) ? preparePhysicalTarget(ctx) : prepareLogicalTarget(ctx);
  }

  async restore(ctx: RestoreContext<MysqlRestoreTarget>, prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    const result = isPhysical(ctx) ? await restorePhysical(ctx, prepared, transfer) : await restoreLogical(ctx, prepared, transfer);
    if (ctx.target.pointInTime) {
      const replay = await replayBinlogs(ctx, result, transfer);
      return { ...result, endpoint: { ...result.endpoint, replay } };
    }
    return result;
  }

  async validateRestore(ctx: RestoreContext<MysqlRestoreTarget>, result: RestoreResult): Promise<ValidationReport> {
    if (isPhysical(ctx) && ctx.target.physical?.start === false) {
      return {
        ok: false,
        checks: [{
          name: 'server-started',
          ok: false,
          detail: 'physical.start is false: the restored data dir was not started, so its tables cannot be proven; start a server on it to validate',
        }],
      };
    }
    const checks = ctx.target.pointInTime ? await validatePointInTime(ctx, result) : await validateTables(ctx, result);
    return { ok: checks.every((c) => c.ok), checks };
  }
}
