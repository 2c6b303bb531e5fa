/**
 * The driver contract suite (test/contract/driver-contract.ts) for every built-in driver: each
 * driver of drivers/index.ts brings its kits in `drivers/<engine>/kit.ts`, and each kit runs every
 * case twice, its backups stored as they are and compressed and encrypted, over one source.
 */
import { runDriverContract } from '../../contract/driver-contract';
import { BUILTIN_ENGINES, BUILTIN_KITS } from '../../contract/builtin-kits';

it('has a kit for every built-in driver', () => {
  expect(BUILTIN_ENGINES.filter((engine) => !BUILTIN_KITS.some((kit) => kit.engine === engine))).toEqual([]);
  expect(BUILTIN_KITS.map((kit) => kit.name)).toEqual(expect.arrayContaining(['etcd', 'mysql logical', 'mysql physical', 'zookeeper host-local', 'zookeeper logical']));
});

describe.each(BUILTIN_KITS.map((kit) => [kit.name, kit] as const))('driver contract: %s', (_name, kit) => {
  runDriverContract(kit);
});
