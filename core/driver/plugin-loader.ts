/**
 * Discovers external driver plugins and loads only the ones the operator trusts.
 *
 * A plugin path is a directory whose subdirectories are plugins. A plugin directory holds a
 * `package.json` with `"main"` (a CommonJS entry file) and the marker `"dbbackup": { "plugin": true }`;
 * directories without the marker are skipped. Before the entry is `require`d its sha256 is compared
 * with the pin for the package's `name`: a mismatch is always refused, a missing pin is refused unless
 * `allowUnpinned`. The pin covers the entry file only, so plugins should ship as one bundled file.
 * The module's `plugin` (or default) export is then registered, so the registry's manifest, API-version
 * and duplicate checks apply.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from '../host/read-if-exists';
import { PermanentError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { parseSwitch } from '../config/switch';
import type { DriverRegistry } from './registry';

/** Where plugins live in a Lambda function: layers are unpacked under /opt. */
export const LAMBDA_PLUGIN_PATH = '/opt/dbbackup/plugins';

export interface PluginOptions {
  /** Directories whose subdirectories are plugins. Each must exist. */
  pluginPaths: string[];
  /** Directories searched only when present (e.g. the Lambda layer path). */
  optionalPluginPaths?: string[];
  /** package.json `name` → lower-case hex sha256 of its entry file. */
  pins: Record<string, string>;
  /** Load plugins that have no pin (development only). A pin that does not match is refused regardless. */
  allowUnpinned?: boolean;
}

export interface LoadPluginsOptions extends PluginOptions {
  logger?: Logger;
}

/** What was loaded, for logs and `dbbackup plugins`. */
export interface LoadedPlugin {
  /** Engine name from the manifest. */
  engine: string;
  /** package.json `name`, the key of its pin. */
  packageName: string;
  entry: string;
  sha256: string;
  pinned: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Reads the plugin settings from an environment. The only reader of these variables.
 *
 * - `DBBACKUP_PLUGIN_PATH`: colon-separated plugin directories.
 * - `DBBACKUP_PLUGIN_PINS`: a JSON object `{"name":"sha256"}` or `name=sha256,name=sha256`.
 * - `DBBACKUP_ALLOW_UNPINNED_PLUGINS`: `true`/`1`/`yes` or `false`/`0`/`no`.
 * - In Lambda (`AWS_LAMBDA_FUNCTION_NAME` set), {@link LAMBDA_PLUGIN_PATH} is searched when present.
 *
 * @throws PermanentError `INVALID_PLUGIN_SETTINGS` on a malformed value (a typo fails loudly).
 * @example
 * ```ts
 * const registry = await createRegistry(builtinPlugins(), pluginOptionsFromEnv(process.env));
 * ```
 */
export function pluginOptionsFromEnv(env: Record<string, string | undefined>): PluginOptions {
  const pluginPaths = (env.DBBACKUP_PLUGIN_PATH ?? '').split(':').map((p) => p.trim()).filter((p) => p.length > 0);
  const optionalPluginPaths = env.AWS_LAMBDA_FUNCTION_NAME ? [LAMBDA_PLUGIN_PATH] : [];
  return {
    pluginPaths,
    optionalPluginPaths,
    pins: parsePins(env.DBBACKUP_PLUGIN_PINS ?? ''),
    allowUnpinned: parseSwitch('DBBACKUP_ALLOW_UNPINNED_PLUGINS', env.DBBACKUP_ALLOW_UNPINNED_PLUGINS, 'INVALID_PLUGIN_SETTINGS') ?? false,
  };
}

function settingsError(message: string): PermanentError {
  return new PermanentError(message, { code: 'INVALID_PLUGIN_SETTINGS' });
}

/** Parses `{"name":"sha"}` or `name=sha,name=sha`; every hash must be 64 hex digits. */
export function parsePins(text: string): Record<string, string> {
  const trimmed = text.trim();
  let entries: [string, unknown][];
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw settingsError('DBBACKUP_PLUGIN_PINS is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw settingsError('DBBACKUP_PLUGIN_PINS must be a JSON object of name → sha256');
    }
    entries = Object.entries(parsed);
  } else {
    entries = trimmed.split(',').map((p) => p.trim()).filter((p) => p.length > 0).map((pair) => {
      const at = pair.lastIndexOf('=');
      if (at <= 0) throw settingsError(`DBBACKUP_PLUGIN_PINS entry '${pair}' is not name=sha256`);
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    });
  }
  const pins: Record<string, string> = {};
  for (const [name, sha] of entries) {
    const normalized = typeof sha === 'string' ? sha.toLowerCase() : '';
    if (!SHA256.test(normalized)) throw settingsError(`DBBACKUP_PLUGIN_PINS: pin for '${name}' is not a 64-digit hex sha256`);
    pins[name] = normalized;
  }
  return pins;
}

/** Lower-case hex sha256 of a file. */
async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

interface PluginPackage {
  name: string;
  main: string;
}

/** Reads a plugin directory's package.json; undefined when it is not a dbbackup plugin. */
async function readPluginPackage(dir: string): Promise<PluginPackage | undefined> {
  const file = path.join(dir, 'package.json');
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  let pkg: { name?: unknown; main?: unknown; dbbackup?: { plugin?: unknown } };
  try {
    pkg = JSON.parse(text) as typeof pkg;
  } catch {
    throw new PermanentError(`${file} is not valid JSON`, { code: 'INVALID_PLUGIN_PACKAGE' });
  }
  if (pkg?.dbbackup?.plugin !== true) return undefined;
  if (typeof pkg.name !== 'string' || pkg.name.length === 0) {
    throw new PermanentError(`${file} has no "name" (the key its sha256 is pinned under)`, { code: 'INVALID_PLUGIN_PACKAGE' });
  }
  if (typeof pkg.main !== 'string' || pkg.main.length === 0) {
    throw new PermanentError(`${file} has no "main" entry file`, { code: 'INVALID_PLUGIN_PACKAGE' });
  }
  return { name: pkg.name, main: pkg.main };
}

/** Verifies, requires and registers the plugin in `dir`; undefined when `dir` is not a plugin. */
async function loadPluginDir(registry: DriverRegistry, dir: string, options: LoadPluginsOptions): Promise<LoadedPlugin | undefined> {
  const pkg = await readPluginPackage(dir);
  if (!pkg) return undefined;
  const entry = path.resolve(dir, pkg.main);
  if (!entry.startsWith(path.resolve(dir) + path.sep)) {
    throw new PermanentError(`plugin '${pkg.name}': "main" (${pkg.main}) points outside ${dir}`, { code: 'INVALID_PLUGIN_PACKAGE' });
  }
  const actual = await sha256File(entry).catch((error: unknown) => {
    throw new PermanentError(`plugin '${pkg.name}': cannot read its entry file ${entry}`, { code: 'INVALID_PLUGIN_PACKAGE', cause: error });
  });
  const expected = options.pins[pkg.name];
  if (expected !== undefined && expected.toLowerCase() !== actual) {
    throw new PermanentError(
      `plugin '${pkg.name}' failed its integrity check: ${entry} has sha256 ${actual}, but its pin expects ${expected}`,
      { code: 'PLUGIN_INTEGRITY' },
    );
  }
  if (expected === undefined && !options.allowUnpinned) {
    throw new PermanentError(
      `plugin '${pkg.name}' (${entry}) is not pinned; to trust this exact file, add its sha256 to DBBACKUP_PLUGIN_PINS, ` +
      `e.g. DBBACKUP_PLUGIN_PINS='${pkg.name}=${actual}' (DBBACKUP_ALLOW_UNPINNED_PLUGINS=true skips this check, for development only)`,
      { code: 'PLUGIN_NOT_PINNED' },
    );
  }
  if (expected === undefined) {
    options.logger?.warn('loading an unpinned driver plugin', { packageName: pkg.name, entry, sha256: actual });
  }

  // Drop a cached copy so the module that runs is the file just hashed.
  delete require.cache[entry];
  let exported: { plugin?: unknown; default?: unknown };
  try {
    exported = require(entry) as typeof exported;
  } catch (error) {
    throw new PermanentError(`plugin '${pkg.name}': loading ${entry} failed: ${(error as Error)?.message ?? String(error)}`,
      { code: 'PLUGIN_LOAD_FAILED', cause: error });
  }
  const candidate = exported?.plugin ?? exported?.default;
  if (candidate === undefined) {
    throw new PermanentError(`plugin '${pkg.name}': ${entry} exports neither 'plugin' nor a default`, { code: 'INVALID_MANIFEST' });
  }
  const plugin = registry.register(candidate, entry);
  return { engine: plugin.manifest.name, packageName: pkg.name, entry, sha256: actual, pinned: expected !== undefined };
}

/** Subdirectories of a plugin path, sorted so loading order (and duplicate errors) is stable. */
async function pluginDirs(root: string, optional: boolean): Promise<string[]> {
  const info = await stat(root).catch(() => undefined);
  if (!info || !info.isDirectory()) {
    if (optional) return [];
    throw new PermanentError(`plugin path ${root} does not exist or is not a directory (check DBBACKUP_PLUGIN_PATH)`,
      { code: 'PLUGIN_PATH_MISSING' });
  }
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => path.join(root, e.name)).sort();
}

/**
 * Loads every plugin under the plugin paths into `registry`. Stops at the first refused plugin:
 * a plugin that cannot be trusted is an operator error to fix, not something to skip quietly.
 *
 * @throws PermanentError `PLUGIN_PATH_MISSING`, `INVALID_PLUGIN_PACKAGE`, `PLUGIN_INTEGRITY`, `PLUGIN_NOT_PINNED`,
 *   `PLUGIN_LOAD_FAILED`, or the registry's `INVALID_MANIFEST` / `INCOMPATIBLE_API` / `DUPLICATE_DRIVER`.
 * @example
 * ```ts
 * const loaded = await loadPlugins(registry, {
 *   pluginPaths: ['/srv/dbbackup/plugins'],
 *   pins: { dirtree: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' },
 * });
 * ```
 */
export async function loadPlugins(registry: DriverRegistry, options: LoadPluginsOptions): Promise<LoadedPlugin[]> {
  const logger = options.logger ?? silentLogger;
  const roots = [
    ...options.pluginPaths.map((p) => ({ root: path.resolve(p), optional: false })),
    ...(options.optionalPluginPaths ?? []).map((p) => ({ root: path.resolve(p), optional: true })),
  ];
  const loaded: LoadedPlugin[] = [];
  for (const { root, optional } of roots) {
    for (const dir of await pluginDirs(root, optional)) {
      const plugin = await loadPluginDir(registry, dir, { ...options, logger });
      if (plugin) {
        logger.info('loaded driver plugin', { ...plugin });
        loaded.push(plugin);
      }
    }
  }
  return loaded;
}
