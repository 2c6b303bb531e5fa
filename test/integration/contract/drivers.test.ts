/**
 * The driver contract suite (test/contract/driver-contract.ts) for every built-in driver: each
 * driver of drivers/index.ts brings its kits in `drivers/<engine>/kit.ts`, and each kit runs every
 * case twice, its backups stored as they are and compressed and encrypted, over one source. The
 * kits are shared between this file and drivers-more.test.ts (contract-share.ts), so that jest runs
 * them on two workers at once.
 */
import { BUILTIN_ENGINES, BUILTIN_KITS } from '../../contract/builtin-kits';
import { runContractShare } from '../../contract/contract-share';

it('has a kit for every built-in driver', () => {
  expect(BUILTIN_ENGINES.filter((engine) => !BUILTIN_KITS.some((kit) => kit.engine === engine))).toEqual([]);
  expect(BUILTIN_KITS.map((kit) => kit.name)).toEqual(expect.arrayContaining(['etcd', 'mysql logical', 'mysql physical', 'zookeeper host-local', 'zookeeper logical']));
});

runContractShare(0);
