/**
 * The one way to build a registry: the built-in drivers the entry point passes in (its list is
 * the drivers folder's `index.ts` — core never names a driver), then the external plugins the operator pinned.
 */
import type { Logger } from '../logger';
import { loadPlugins, type PluginOptions } from './plugin-loader';
import { DriverRegistry } from './registry';
import type { DriverPlugin } from './types';

export interface CreateRegistryOptions extends Partial<PluginOptions> {
  logger?: Logger;
}

/**
 * A registry holding `builtins` and every external plugin found under the plugin paths
 * (integrity-checked; see `loadPlugins`). With no options, only the built-ins.
 *
 * @example
 * ```ts
 * const registry = await createRegistry(builtinPlugins(), pluginOptionsFromEnv(process.env));
 * const driver = registry.backupDriver('etcd');
 * ```
 */
export async function createRegistry(builtins: readonly DriverPlugin[], options: CreateRegistryOptions = {}): Promise<DriverRegistry> {
  const registry = new DriverRegistry();
  for (const plugin of builtins) registry.register(plugin, 'built-in');
  await loadPlugins(registry, {
    pluginPaths: options.pluginPaths ?? [],
    optionalPluginPaths: options.optionalPluginPaths ?? [],
    pins: options.pins ?? {},
    allowUnpinned: options.allowUnpinned ?? false,
    logger: options.logger,
  });
  return registry;
}
