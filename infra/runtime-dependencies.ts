/**
 * Packages esbuild cannot inline into a Lambda bundle, shipped next to it instead.
 *
 * Each built-in driver names the client packages it needs kept out (`unbundled` in its
 * `builtin.ts`, e.g. etcd3, which reads its gRPC definitions from a file next to its own code at
 * load time). Such packages are marked external and copied, with the production dependencies they
 * need, from the project's `node_modules` into the bundle's `node_modules` (a local copy: no
 * registry, no Docker). Packages only host steps load (`hostOnly`: the ZooKeeper client, a native
 * addon) stay out of the functions' bundles altogether and go only into the host agent's. A native
 * addon functions need too (zstd-napi, the MySQL chunk codec: logical dumps and loads run in
 * functions) is unbundled: the copy is the one built on the deploying machine, so deploy from Linux
 * on the functions' architecture (x86_64, glibc 2.34+ as Lambda's Node 20 runtime has); the addon is
 * loaded only when a chunk is written or read, so no other engine depends on it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_DRIVERS } from '../drivers';

/** Packages kept out of the bundle and copied next to it: what the built-in drivers name. */
export const UNBUNDLED_PACKAGES: readonly string[] = [...new Set(BUILTIN_DRIVERS.flatMap((driver) => driver.unbundled))];

/** Packages only host steps load (native addons): out of the Lambda bundles entirely, in the host agent bundle. */
export const HOST_ONLY_PACKAGES: readonly string[] = [...new Set(BUILTIN_DRIVERS.flatMap((driver) => driver.hostOnly))];

/** What the host agent bundle ships beside its code: the unbundled packages and the host-only ones. */
export const HOST_PACKAGES: readonly string[] = [...UNBUNDLED_PACKAGES, ...HOST_ONLY_PACKAGES];

/** Packages never copied: types only, and what a native addon needs only to be built on install (headers, the prebuilt-binary downloader). */
const SKIPPED = /^(@types\/.*|node-addon-api|prebuild-install)$/;

/**
 * The package directories (relative to `projectRoot`, e.g. `node_modules/@grpc/grpc-js`) that
 * `names` need at run time: each package and, transitively, its dependencies and optional
 * dependencies, resolved as Node would from where each package is installed. Directories nested
 * inside another listed directory are left out (copying the outer one brings them).
 * @throws Error naming a package that is not installed
 */
export function packageClosure(projectRoot: string, names: readonly string[]): string[] {
  const found = new Set<string>();
  const visit = (name: string, fromDir: string, requiredBy: string): void => {
    if (SKIPPED.test(name)) return;
    const dir = resolvePackageDir(name, fromDir, projectRoot);
    if (!dir) {
      throw new Error(`cannot bundle the Lambda functions: package '${name}' (needed by ${requiredBy}) is not installed; run npm install`);
    }
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const optional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      if (optional.has(dependency) && !resolvePackageDir(dependency, dir, projectRoot)) continue;
      visit(dependency, dir, name);
    }
  };
  for (const name of names) visit(name, projectRoot, 'the functions');
  const dirs = [...found].map((dir) => path.relative(projectRoot, dir)).sort();
  return dirs.filter((dir) => !dirs.some((outer) => outer !== dir && dir.startsWith(`${outer}${path.sep}`)));
}

/** Where `require(name)` from a file in `fromDir` finds the package, without leaving `projectRoot`. */
function resolvePackageDir(name: string, fromDir: string, projectRoot: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.resolve(dir) === path.resolve(projectRoot)) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Shell commands (run by CDK's local bundling after esbuild) that copy `dirs` from `inputDir` to `outputDir`. */
export function copyPackagesCommands(inputDir: string, outputDir: string, dirs: readonly string[]): string[] {
  return dirs.map((dir) => {
    const target = path.join(outputDir, dir);
    return `mkdir -p ${quote(path.dirname(target))} && cp -R ${quote(path.join(inputDir, dir))} ${quote(target)}`;
  });
}

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
