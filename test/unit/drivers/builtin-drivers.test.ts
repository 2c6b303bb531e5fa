/**
 * The list of built-in drivers (drivers/index.ts) and what is derived from it: each entry is whole
 * (its demo is its engine's, its README exists), and the registry, the Lambda bundles' unbundled
 * packages and the test harness's host packages come from it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRegistry } from '../../../core/driver/create-registry';
import { BUILTIN_DRIVERS, builtinPlugins } from '../../../drivers';
import { UNBUNDLED_PACKAGES } from '../../../infra/runtime-dependencies';

const root = path.resolve(__dirname, '../../..');

describe('drivers/index.ts', () => {
  it('lists etcd and mysql among its engines, each name once', () => {
    // Act
    const names = BUILTIN_DRIVERS.map((d) => d.plugin.manifest.name);

    // Assess
    expect(names).toEqual(expect.arrayContaining(['etcd', 'mysql']));
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(BUILTIN_DRIVERS.map((d) => [d.plugin.manifest.name, d] as const))('%s: its demo runs its engine, its README and folder exist, and it names its host needs', (name, driver) => {
    // Assess
    expect(driver.demo.engine).toBe(name);
    expect(existsSync(path.join(root, 'drivers', name, 'README.md'))).toBe(true);
    expect(driver.host.some((r) => r.neededBy.includes('demo'))).toBe(true);
    expect(driver.host.some((r) => r.neededBy.includes('test'))).toBe(true);
  });

  it('is what the registry holds as built-ins (the registry lists them by name)', async () => {
    // Act
    const registry = await createRegistry(builtinPlugins());

    // Assess
    expect(registry.list().map((d) => [d.name, d.source])).toEqual(BUILTIN_DRIVERS.map((d) => [d.plugin.manifest.name, 'built-in']).sort());
  });

  it('names the packages the Lambda bundles leave out', () => {
    // Assess
    expect(UNBUNDLED_PACKAGES).toEqual(expect.arrayContaining(['etcd3']));
    expect([...UNBUNDLED_PACKAGES].sort()).toEqual([...new Set(BUILTIN_DRIVERS.flatMap((d) => d.unbundled))].sort());
  });
});
