/**
 * The drivers that ship with dbbackup, and the one way to build a registry: built-ins first, then
 * the external plugins the operator pinned.
 */
import { plugin as etcd } from '../../drivers/etcd';
import { plugin as mysql } from '../../drivers/mysql';
import type { Logger } from '../logger';
import { loadPlugins, type PluginOptions } from './plugin-loader';
import { DriverRegistry } from './registry';
import type { DriverPlugin } from './types';

/**
 * The built-in driver plugins.
 *
 * @example
 * ```ts
 * const engines = builtinPlugins().map((p) => p.manifest.name); // ['etcd', 'mysql']
 * ```
 */
export function builtinPlugins(): DriverPlugin[] {
  return [etcd, mysql];
}

export interface CreateRegistryOptions extends Partial<PluginOptions> {
  logger?: Logger;
}

/**
 * A registry holding the built-in drivers and every external plugin found under the plugin paths
 * (integrity-checked; see `loadPlugins`). With no options, only the built-ins.
 *
 * @example
 * ```ts
 * const registry = await createRegistry(pluginOptionsFromEnv(process.env));
 * const driver = registry.backupDriver('etcd');
 * ```
 */
export async function createRegistry(options: CreateRegistryOptions = {}): Promise<DriverRegistry> {
  const registry = new DriverRegistry();
  for (const plugin of builtinPlugins()) registry.register(plugin, 'built-in');
  await loadPlugins(registry, {
    pluginPaths: options.pluginPaths ?? [],
    optionalPluginPaths: options.optionalPluginPaths ?? [],
    pins: options.pins ?? {},
    allowUnpinned: options.allowUnpinned ?? false,
    logger: options.logger,
  });
  return registry;
}
