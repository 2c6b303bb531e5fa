/**
 * Where this copy of dbbackup lives: the directory of its `package.json` — the repository checkout
 * when run from source, the package directory when installed with npm, the bundle's directory on
 * a database host. Files that ship beside the code (the built CLI, the synthesized state machines)
 * are found from here, whatever the depth of the module asking (source tree or one bundled file).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PermanentError } from '../errors';

/** The `name` in our package.json. */
export const PACKAGE_NAME = 'dbbackup';

/**
 * The files of a built copy, relative to its root: the same in the repository (after
 * `npm run build`), in the npm package and in the bundle the stack publishes for database hosts.
 */
export const BUILT_FILES = {
  /** The launcher on the PATH (`#!/usr/bin/env node`); it runs `cli`. */
  bin: 'bin/dbbackup.js',
  /** The CLI and host agent, built into one JavaScript file. */
  cli: 'dist/cli.js',
  /** Both state machines' definitions as synthesized from the CDK constructs, for local runs. */
  definitions: 'dist/state-machines.json',
} as const;

/** The absolute path of one of the {@link BUILT_FILES} of this copy. */
export function builtFile(file: keyof typeof BUILT_FILES): string {
  return path.join(packageRoot(), BUILT_FILES[file]);
}

const roots = new Map<string, string>();

/**
 * The nearest directory at or above `from` whose package.json is named `dbbackup`.
 * @throws PermanentError `INSTALL_BROKEN` when there is none (a copy missing its package.json)
 */
export function packageRoot(from: string = __dirname): string {
  const known = roots.get(from);
  if (known) return known;
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (isOurPackage(path.join(dir, 'package.json'))) {
      roots.set(from, dir);
      return dir;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new PermanentError(`cannot find dbbackup's package.json at or above ${from}: the installation is incomplete`, { code: 'INSTALL_BROKEN' });
}

/** The `version` in this copy's package.json (`unknown` when it cannot be read). */
export function packageVersion(): string {
  try {
    const { version } = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function isOurPackage(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
