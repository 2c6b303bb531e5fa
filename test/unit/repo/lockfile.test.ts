/**
 * `npm ci` refuses a lockfile that does not list every optional dependency of every package, for
 * every platform (an install here only needs the linux builds, a macOS or Windows machine needs
 * theirs): each optional dependency a locked package declares must have its own entry.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface LockedPackage {
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

/** Where `name` resolves from the package installed at `location` (as npm lays out node_modules). */
function isLocked(name: string, location: string): boolean {
  let dir = location;
  for (;;) {
    if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (dir === '') return false;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('lists every optional platform package of every locked package, so npm ci works on macOS and Windows too', () => {
    // Act
    const missing = Object.entries(lock.packages).flatMap(([location, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((name) => !isLocked(name, location))
        .map((name) => `${name} (optional dependency of ${location || 'the project'})`));

    // Assess
    expect(missing).toEqual([]);
  });
});
