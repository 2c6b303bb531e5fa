/**
 * The built-in kits split between the contract suite's test files — every other kit each, in the
 * order of drivers/index.ts — so that jest runs the halves on two workers at once instead of all
 * of them one after the other on one. A new driver's kit joins a half by itself.
 */
import { BUILTIN_KITS } from './builtin-kits';
import { runDriverContract } from './driver-contract';

/** How many test files share the kits. */
export const CONTRACT_SHARES = 2;

/** Runs the contract for every kit of share `share` (0 to {@link CONTRACT_SHARES} - 1). */
export function runContractShare(share: number): void {
  const mine = BUILTIN_KITS.filter((_, i) => i % CONTRACT_SHARES === share);
  describe.each(mine.map((kit) => [kit.name, kit] as const))('driver contract: %s', (_name, kit) => {
    runDriverContract(kit);
  });
}
