/**
 * Who may import whom: core/ never imports a driver (the entry points pass the built-in list in),
 * and the store never imports the driver contract (it is the layer below it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

/** Every .ts file under `dir`, relative to the repository root. */
function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(dir, file));
}

/** The module specifiers `file` imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)|require\('([^']+)'\)/g)]
    .map((m) => m[1] ?? m[2] ?? m[3]);
}

/** `file`'s imports that resolve inside `target` (a folder of the repository). */
function importsInto(file: string, target: string): string[] {
  return importsOf(file)
    .filter((specifier) => specifier.startsWith('.'))
    .filter((specifier) => {
      const resolved = path.relative(root, path.resolve(root, path.dirname(file), specifier));
      return resolved === target || resolved.startsWith(`${target}${path.sep}`);
    });
}

describe('layering', () => {
  it('core/ imports nothing from drivers/', () => {
    // Act
    const offending = sources('core').flatMap((file) => importsInto(file, 'drivers').map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });

  it('core/store imports nothing from core/driver', () => {
    // Act
    const offending = sources('core/store').flatMap((file) => importsInto(file, 'core/driver').map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });
});
