/**
 * A driver's restore steps on one node, one after the other (stage, restore, start): what the
 * restore state machine does for a target on one host, for tests that call a driver directly.
 */
import type { PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions } from '../../core/driver/types';

export async function restoreOnOneNode<T>(driver: RestoreDriver<T>, ctx: RestoreContext<T>, prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
  if (driver.stage) await driver.stage(ctx, transfer);
  const result = await driver.restore(ctx, prepared, transfer);
  return driver.start ? driver.start(ctx, result) : result;
}
