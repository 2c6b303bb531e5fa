/**
 * The driver contract suite (test/contract/driver-contract.ts) for every built-in driver: each
 * driver of drivers/index.ts brings its kits in `drivers/<engine>/kit.ts`, and each kit runs every case.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_DRIVERS } from '../../../drivers';
import { runDriverContract } from '../../contract/driver-contract';
import type { DriverKit } from '../../contract/driver-kit';

const DRIVERS_DIR = path.resolve(__dirname, '../../../drivers');
const ENGINES = BUILTIN_DRIVERS.map((driver) => driver.plugin.manifest.name);

/** The kits a driver's folder exports (none when it has no kit.ts: the test below fails). */
function kitsOf(engine: string): readonly DriverKit[] {
  const file = path.join(DRIVERS_DIR, engine, 'kit.ts');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- describe.each needs the kits while collecting
  return existsSync(file) ? (require(file) as { kits: readonly DriverKit[] }).kits : [];
}

const KITS = ENGINES.flatMap((engine) => kitsOf(engine));

it('has a kit for every built-in driver', () => {
  expect(ENGINES.filter((engine) => !KITS.some((kit) => kit.engine === engine))).toEqual([]);
  expect(KITS.map((kit) => kit.name)).toEqual(expect.arrayContaining(['etcd', 'mysql logical', 'mysql physical', 'zookeeper host-local', 'zookeeper logical']));
});

describe.each(KITS.map((kit) => [kit.name, kit] as const))('driver contract: %s', (_name, kit) => {
  runDriverContract(kit);
});
