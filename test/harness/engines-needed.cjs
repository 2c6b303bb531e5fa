/**
 * Which engines a set of test files needs installed on this host: those whose driver
 * folder (`drivers/<engine>/`) a test file reaches through its imports, directly or through other
 * modules of the repository. Not through the list of every driver (`drivers/index.ts`), which
 * every runtime imports without needing every engine's servers. A test of every driver needs them
 * all: the driver contract suite, and a test file that says so with the marker `@needs-every-engine`
 * (one that runs the demo, say). Plain CommonJS: jest loads the test sequencer
 * (sequencer.cjs) without transforming it.
 */
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const DRIVERS = path.join(ROOT, 'drivers');
const LIST_OF_DRIVERS = path.join(DRIVERS, 'index.ts');
const EVERY_DRIVER = path.join(ROOT, 'test/contract/driver-contract.ts');
const EVERY_ENGINE_MARKER = '@needs-every-engine';
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\('([^']+)'\)|require\('([^']+)'\)/g;

/** The module specifiers `text` imports (for their bindings or only for their effects), re-exports or requires. */
function importSpecifiers(text) {
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
}

/** The folders of drivers/ holding `file`, in name order. */
function foldersWith(file) {
  return readdirSync(DRIVERS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(DRIVERS, entry.name, file)))
    .map((entry) => entry.name)
    .sort();
}

/** The built-in engines: the folders of drivers/ with a builtin.ts. */
function builtinEngines() {
  return foldersWith('builtin.ts');
}

/** The file a relative import of `from` names, if it is one of the repository's. */
function resolveImport(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  return [base, `${base}.ts`, `${base}.cjs`, `${base}.js`, path.join(base, 'index.ts')].find((file) => existsSync(file) && !file.endsWith(path.sep) && path.extname(file) !== '');
}

/** The engines `testFiles` need, in name order. */
function enginesNeeded(testFiles) {
  const every = builtinEngines();
  const needed = new Set();
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file) || file === LIST_OF_DRIVERS) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    if (file === EVERY_DRIVER) every.forEach((engine) => needed.add(engine));
    const inDrivers = path.relative(DRIVERS, file);
    if (!inDrivers.startsWith('..')) {
      const engine = inDrivers.split(path.sep)[0];
      if (every.includes(engine)) needed.add(engine);
    }
    for (const specifier of importSpecifiers(text)) {
      if (!specifier.startsWith('.')) continue;
      const resolved = resolveImport(file, specifier);
      if (resolved) visit(resolved);
    }
  };
  for (const file of testFiles.map((f) => path.resolve(f))) {
    // The marker counts in a test file itself, not in the modules it imports.
    if (readFileSync(file, 'utf8').includes(EVERY_ENGINE_MARKER)) every.forEach((engine) => needed.add(engine));
    visit(file);
  }
  return every.filter((engine) => needed.has(engine));
}

module.exports = { enginesNeeded, builtinEngines, importSpecifiers };
