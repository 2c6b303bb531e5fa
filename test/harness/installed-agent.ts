/**
 * dbbackup as a database host gets it from npm: `npm pack` of this repository (the build the test
 * setup made), installed with `npm install -g` on a clean prefix. What tests run from here is the
 * packed artifact — its `bin`, its built JavaScript, its production dependencies — never the
 * repository's sources or devDependencies.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '..', '..');

/** A clean prefix with the packed dbbackup installed. */
export interface InstalledAgent {
  /** The `--prefix` of the global install; its `bin/` holds `dbbackup`. */
  prefix: string;
  /** `<prefix>/bin`, to put first on a PATH. */
  binDir: string;
  /** `<prefix>/lib/node_modules/dbbackup`. */
  packageDir: string;
  /** Bytes on disk of the whole prefix. */
  installedBytes: number;
  /** Names of the installed packages (`@scope/name` or `name`), dbbackup's dependencies. */
  packages: string[];
  remove(): Promise<void>;
}

/** npm's environment without what an enclosing `npm test` set (its prefix, its lifecycle). */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(config|lifecycle|package)_/i.test(name)));
}

/** Packs the repository (without rebuilding) and installs the tarball globally on a fresh prefix. */
export async function installPackedAgent(): Promise<InstalledAgent> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-installed-'));
  const env = npmEnv();
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO, env, maxBuffer: 16 * 1024 * 1024 });
  const tarball = path.join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0].filename);
  const prefix = path.join(work, 'prefix');
  await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: work, env, maxBuffer: 16 * 1024 * 1024 });
  const packageDir = path.join(prefix, 'lib', 'node_modules', 'dbbackup');
  return {
    prefix,
    binDir: path.join(prefix, 'bin'),
    packageDir,
    installedBytes: await diskBytes(prefix),
    packages: await packageNames(path.join(packageDir, 'node_modules')),
    remove: () => rm(work, { recursive: true, force: true }),
  };
}

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await diskBytes(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

async function packageNames(modules: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(modules, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (!entry.name.startsWith('@')) names.push(entry.name);
    else for (const scoped of await readdir(path.join(modules, entry.name))) names.push(`${entry.name}/${scoped}`);
  }
  return names.sort();
}
