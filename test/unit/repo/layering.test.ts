/**
 * Who may import whom: core/ never imports a driver (the entry points pass the built-in list in),
 * a driver never opens the catalog (core hands it the backups a restore reads), and the store never imports the driver contract (it is the layer below it). Inside the MySQL
 * driver, shared/ is what other MySQL-backed drivers build on: it imports none of the roles built
 * on it (logical/, physical/, point-in-time/) and, of the plugin at the top, only config.ts;
 * the logical and physical roles do not import each other nor point-in-time/ (which replays onto
 * what either restored).
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

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, shared with the test sequencer
const { importSpecifiers } = require('../../harness/engines-needed.cjs') as { importSpecifiers(text: string): string[] };

/** The module specifiers `file` imports (for their bindings or only for their effects), re-exports or requires. */
function importsOf(file: string): string[] {
  return importSpecifiers(readFileSync(path.join(root, file), 'utf8'));
}

/** Whether `specifier`, imported by `file`, resolves to `target` (a folder or a module of the repository) or inside it. */
function insideOf(file: string, specifier: string, target: string): boolean {
  const resolved = path.relative(root, path.resolve(root, path.dirname(file), specifier));
  return resolved === target || resolved.startsWith(`${target}${path.sep}`);
}

/** `file`'s imports that resolve inside `target` (a folder of the repository). */
function importsInto(file: string, target: string): string[] {
  return importsOf(file).filter((specifier) => specifier.startsWith('.') && insideOf(file, specifier, target));
}

describe('layering', () => {
  it('core/ imports nothing from drivers/', () => {
    // Act
    const offending = sources('core').flatMap((file) => importsInto(file, 'drivers').map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });

  it('drivers import nothing from test/, but for their contract-suite kits (kit.ts, loaded by the tests only)', () => {
    // Act
    const offending = sources('drivers').filter((file) => path.basename(file) !== 'kit.ts')
      .flatMap((file) => importsInto(file, 'test').map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });

  it('drivers do not open the catalog: the fetch manifest step resolves what a restore reads (RestoreContext.chain)', () => {
    // Act
    const offending = sources('drivers').flatMap((file) => importsInto(file, 'core/catalog/catalog').map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });

  it('core/store imports nothing from core/driver', () => {
    // Act
    const offending = sources('core/store').flatMap((file) => importsInto(file, 'core/driver').map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });

  it('drivers/mysql/shared imports, of the MySQL driver, only itself and config.ts', () => {
    // Act
    const offending = sources('drivers/mysql/shared').flatMap((file) => importsInto(file, 'drivers/mysql')
      .filter((specifier) => !insideOf(file, specifier, 'drivers/mysql/shared') && !insideOf(file, specifier, 'drivers/mysql/config'))
      .map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });

  it.each([
    ['logical', 'physical'],
    ['logical', 'point-in-time'],
    ['physical', 'logical'],
    ['physical', 'point-in-time'],
  ])('drivers/mysql/%s imports nothing from drivers/mysql/%s', (role, other) => {
    // Act
    const offending = sources(`drivers/mysql/${role}`).flatMap((file) => importsInto(file, `drivers/mysql/${other}`).map((s) => `${file}: ${s}`));

    // Assess
    expect(offending).toEqual([]);
  });
});
