/**
 * The driver registry: the one place that knows which engines exist. Built-in drivers and external
 * plugins go through the same {@link DriverRegistry.register}, so both get the same checks: manifest
 * shape, API-version compatibility and unique engine names.
 */
import { z } from 'zod';
import { PermanentError } from '../errors';
import { formatIssues, formatIssuesUnder } from '../config/issues';
import { breakerTarget, defaultEndpoint } from '../resilience/endpoint';
import { DRIVER_API_VERSION } from './types';
import type { BackupDriver, Capability, DriverManifest, DriverPlugin, RestoreDriver, SchemaLike } from './types';

const CAPABILITIES = [
  'backup', 'restore', 'consistency-point', 'multi-node', 'point-in-time', 'incremental',
] as const satisfies readonly Capability[];

/** Semantic version 2.0.0 (https://semver.org), pre-release and build metadata included. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

const schemaLike = z.custom<SchemaLike<unknown>>(
  (value) => typeof (value as { safeParse?: unknown } | null)?.safeParse === 'function',
  { message: 'must be an object with a safeParse(data) method' },
);

const fn = z.custom<(...args: unknown[]) => unknown>((value) => typeof value === 'function', { message: 'must be a function' });

const manifestSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes, starting with a letter'),
  version: z.string().regex(SEMVER, 'must be a semantic version such as 1.2.3'),
  apiVersion: z.number().int(),
  capabilities: z.array(z.enum(CAPABILITIES)),
  description: z.string().optional(),
  configSchema: schemaLike,
  restoreTargetSchema: schemaLike,
  recordSchemas: z.object({ consistency: schemaLike, facts: schemaLike, artifactsNamed: fn.optional() }).optional(),
});

const pluginSchema = z.object({
  manifest: manifestSchema,
  backup: z.object({ listNodes: fn.optional(), endpoint: fn.optional(), createSnapshot: fn, validateSnapshot: fn, upload: fn, cleanup: fn }).loose().optional(),
  restore: z.object({ endpoint: fn.optional(), prepareTarget: fn, restore: fn, validateRestore: fn, afterValidation: fn.optional(), cleanup: fn.optional() }).loose().optional(),
  mapError: fn.optional(),
}).loose()
  .refine((p) => !p.manifest.capabilities.includes('backup') || p.backup !== undefined,
    { message: "declares the 'backup' capability but exports no backup driver", path: ['backup'] })
  .refine((p) => !p.manifest.capabilities.includes('restore') || p.restore !== undefined,
    { message: "declares the 'restore' capability but exports no restore driver", path: ['restore'] })
  .refine((p) => p.manifest.capabilities.includes('multi-node') === (p.backup?.listNodes !== undefined),
    { message: "declares the 'multi-node' capability if and only if its backup driver lists nodes (listNodes)", path: ['backup', 'listNodes'] })
  // An incremental backup is taken by the backup side and applied, chain first, by the restore side: a driver missing either could not keep the promise.
  .refine((p) => !p.manifest.capabilities.includes('incremental') || (p.manifest.capabilities.includes('backup') && p.manifest.capabilities.includes('restore')),
    { message: "declares the 'incremental' capability without both 'backup' and 'restore' (it takes incremental backups and restores their chains)", path: ['manifest', 'capabilities'] });

/** What {@link DriverRegistry.list} reports about each engine; plain JSON for the CLI. */
export interface DriverInfo {
  name: string;
  version: string;
  apiVersion: number;
  capabilities: Capability[];
  description?: string;
  /** Where the driver came from: `built-in` or the plugin's entry file. */
  source: string;
}

interface Entry {
  plugin: DriverPlugin;
  source: string;
}

/** Best-effort name for messages about a plugin whose manifest may be broken. */
function describe(plugin: unknown): string {
  const name = (plugin as { manifest?: { name?: unknown } } | null)?.manifest?.name;
  return typeof name === 'string' ? `'${name}'` : '(unnamed)';
}

/**
 * Holds the drivers by engine name and validates what goes in and what callers ask for.
 *
 * @example
 * ```ts
 * const registry = new DriverRegistry();
 * registry.register(etcdPlugin);
 * const config = registry.parseConfig('etcd', { endpoints: ['http://127.0.0.1:2379'] });
 * const snapshot = await registry.backupDriver('etcd').createSnapshot({ ...ctx, config });
 * ```
 */
export class DriverRegistry {
  private readonly entries = new Map<string, Entry>();

  /**
   * Validates a plugin and adds it. `plugin` is checked at run time (external plugins are untyped).
   * @param source where it came from, named in duplicate errors (`built-in` or a file path).
   * @returns the validated plugin.
   * @throws PermanentError `INVALID_MANIFEST`, `INCOMPATIBLE_API` or `DUPLICATE_DRIVER`.
   */
  register(plugin: unknown, source = 'built-in'): DriverPlugin {
    const parsed = pluginSchema.safeParse(plugin);
    if (!parsed.success) {
      throw new PermanentError(`driver plugin ${describe(plugin)} from ${source} has an invalid manifest: ${formatIssues(parsed.error, '(plugin)')}`,
        { code: 'INVALID_MANIFEST' });
    }
    const valid = plugin as DriverPlugin;
    const { name, apiVersion } = valid.manifest;
    if (apiVersion !== DRIVER_API_VERSION) {
      throw new PermanentError(
        `driver plugin '${name}' from ${source} implements driver API version ${apiVersion}, but this dbbackup supports version ${DRIVER_API_VERSION}`,
        { code: 'INCOMPATIBLE_API', engine: name },
      );
    }
    const existing = this.entries.get(name);
    if (existing) {
      throw new PermanentError(
        `driver '${name}' is registered twice: by ${existing.source} and by ${source}`,
        { code: 'DUPLICATE_DRIVER', engine: name },
      );
    }
    this.entries.set(name, { plugin: valid, source });
    return valid;
  }

  /** True when `engine` is registered. */
  has(engine: string): boolean {
    return this.entries.has(engine);
  }

  /**
   * The plugin for `engine`.
   * @throws PermanentError `UNKNOWN_ENGINE` listing the engines that are registered.
   */
  get(engine: string): DriverPlugin {
    const entry = this.entries.get(engine);
    if (!entry) {
      const known = [...this.entries.keys()].sort();
      throw new PermanentError(
        `unknown engine '${engine}'; known engines: ${known.length > 0 ? known.join(', ') : '(none registered)'}`,
        { code: 'UNKNOWN_ENGINE', engine },
      );
    }
    return entry.plugin;
  }

  /** Every registered engine, sorted by name. */
  list(): DriverInfo[] {
    return [...this.entries.values()]
      .map(({ plugin: { manifest }, source }) => ({
        name: manifest.name,
        version: manifest.version,
        apiVersion: manifest.apiVersion,
        capabilities: [...manifest.capabilities],
        ...(manifest.description === undefined ? {} : { description: manifest.description }),
        source,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The manifest of `engine`. @throws PermanentError `UNKNOWN_ENGINE`. */
  manifest(engine: string): DriverManifest {
    return this.get(engine).manifest;
  }

  /**
   * Validates an instance config (secrets already resolved or still as references, as the schema allows).
   * @throws PermanentError `INVALID_CONFIG` with the schema's message and the engine name.
   */
  parseConfig<C = unknown>(engine: string, config: unknown): C {
    const result = this.get(engine).manifest.configSchema.safeParse(config);
    if (!result.success) {
      throw new PermanentError(`invalid config for engine '${engine}': ${formatIssues(result.error, 'config')}`, { code: 'INVALID_CONFIG', engine });
    }
    return result.data as C;
  }

  /**
   * Checks what a node recorded — its consistency point and facts — against the driver's record
   * schemas, and that a driver with the `consistency-point` capability recorded one. `what` names
   * the record in the error (e.g. `snapshot of node default`, `manifest backups/…/manifest.json`).
   * @throws PermanentError with `code`, naming the field.
   */
  checkRecord(engine: string, record: { consistency: unknown; facts: unknown }, what: string, code: string): void {
    const { manifest } = this.get(engine);
    const fail = (why: string) => new PermanentError(`${what} does not hold what the ${engine} driver records: ${why}`, { code, engine });
    if (manifest.capabilities.includes('consistency-point') && Object.keys(record.consistency ?? {}).length === 0) {
      throw fail('no consistency point');
    }
    for (const part of ['consistency', 'facts'] as const) {
      // A manifest of several nodes keeps each node's record under `nodes` (core/catalog/manifest.ts).
      if (Object.hasOwn(record[part] ?? {}, 'nodes')) throw fail(`${part}.nodes is reserved for the records of a backup of several nodes`);
    }
    for (const part of ['consistency', 'facts'] as const) {
      const result = manifest.recordSchemas?.[part].safeParse(record[part]);
      if (result && !result.success) throw fail(formatIssuesUnder(result.error, [part], part));
    }
  }

  /**
   * Validates a restore target description.
   * @throws PermanentError `INVALID_TARGET` with the schema's message and the engine name.
   */
  parseRestoreTarget<T = unknown>(engine: string, target: unknown): T {
    const result = this.get(engine).manifest.restoreTargetSchema.safeParse(target);
    if (!result.success) {
      throw new PermanentError(`invalid restore target for engine '${engine}': ${formatIssues(result.error, 'target')}`, { code: 'INVALID_TARGET', engine });
    }
    return result.data as T;
  }

  /**
   * The circuit breaker target of a backup of `instance`: the endpoint its (parsed) config
   * connects to, as the driver names it, else a digest of the config. E.g. `mysql/shop@10.0.0.5:3306`.
   */
  backupBreakerTarget(engine: string, instance: string, config: unknown): string {
    const driver = this.backupDriver(engine);
    return breakerTarget(engine, instance, driver.endpoint ? driver.endpoint(config) : defaultEndpoint(config));
  }

  /** The circuit breaker target of a restore of a backup of `instance`: the endpoint of its (parsed) target. */
  restoreBreakerTarget(engine: string, instance: string, target: unknown): string {
    const driver = this.restoreDriver(engine);
    return breakerTarget(engine, instance, driver.endpoint ? driver.endpoint(target) : defaultEndpoint(target));
  }

  /** The backup side of `engine`. @throws PermanentError `UNSUPPORTED_CAPABILITY` when it cannot back up. */
  backupDriver<C = unknown>(engine: string): BackupDriver<C> {
    const plugin = this.get(engine);
    if (!plugin.manifest.capabilities.includes('backup') || !plugin.backup) {
      throw new PermanentError(`engine '${engine}' does not support backup (capabilities: ${plugin.manifest.capabilities.join(', ') || 'none'})`,
        { code: 'UNSUPPORTED_CAPABILITY', engine });
    }
    return plugin.backup as BackupDriver<C>;
  }

  /** The restore side of `engine`. @throws PermanentError `UNSUPPORTED_CAPABILITY` when it cannot restore. */
  restoreDriver<T = unknown>(engine: string): RestoreDriver<T> {
    const plugin = this.get(engine);
    if (!plugin.manifest.capabilities.includes('restore') || !plugin.restore) {
      throw new PermanentError(`engine '${engine}' does not support restore (capabilities: ${plugin.manifest.capabilities.join(', ') || 'none'})`,
        { code: 'UNSUPPORTED_CAPABILITY', engine });
    }
    return plugin.restore as RestoreDriver<T>;
  }
}
