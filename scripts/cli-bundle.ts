/**
 * The CLI (and host agent, its `agent` command) built into one JavaScript file with esbuild, in two
 * flavours:
 *
 * - `package`: our code only, every package left to `require` at run time — what the npm package
 *   ships, its dependencies installed by npm;
 * - `standalone`: packages inlined too, except those that cannot be (see infra/runtime-dependencies.ts)
 *   — the bundle the stack publishes for database hosts, which need only Node.js.
 *
 * Never inlined: CDK (only the build and the stack use it) and the local state machine runner (an
 * optional dependency loaded only by local backups and restores), so neither is loaded by the agent.
 */
import { build, buildSync, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HOST_PACKAGES } from '../infra/runtime-dependencies';
import { firstUseProxy } from '../core/host/first-use-proxy';

/** Node.js the built CLI runs on (also `engines` in package.json and the host install check). */
export const NODE_TARGET = 'node20';

/** Packages the CLI must never carry inlined. */
export const NEVER_INLINED: readonly string[] = ['aws-cdk-lib', 'constructs', 'aws-local-stepfunctions'];

/**
 * Packages only some commands need, loaded when first used rather than when the CLI starts: the
 * engines' clients (a backup of one engine never loads another's) and the AWS SDK clients (a run
 * against a local store, without secrets from AWS, never loads them). Loading them all was half of
 * the CLI's start (0.5 of 1.1 s). Only imports by name (`import { Etcd3 } from 'etcd3'`) are
 * deferred: a default or namespace import copies the package's exports, so loads it at once.
 */
export const LOADED_ON_FIRST_USE: readonly string[] = [
  'etcd3', 'cassandra-driver', 'mysql2/promise', '@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@aws-sdk/client-ssm', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sfn', '@aws-sdk/client-kms',
];

/** The folder beside the bundle that holds a stand-in module for each {@link LOADED_ON_FIRST_USE} package. */
const ON_FIRST_USE_DIR = 'on-first-use';

/** A package's stand-in: `require`s the package when one of its exports is first read ({@link firstUseProxy}). */
function standIn(name: string): string {
  // `__name`: the helper esbuild (tsx, at build time) wraps functions with to keep their names.
  return `// ${name}, loaded when first used (scripts/cli-bundle.ts)
const __name = (fn) => fn;
const firstUseProxy = ${firstUseProxy.toString()};
module.exports = firstUseProxy(() => require(${JSON.stringify(name)}));
`;
}

const standInFile = (name: string): string => `${name.replace(/\//g, '__')}.js`;

/**
 * Each import of a {@link LOADED_ON_FIRST_USE} package `require`s its stand-in instead (kept out
 * of the bundle, so it is not wrapped in code that reads every export at load time): esbuild reads
 * a named import at each use (`import_etcd3.Etcd3`), never when the CLI loads.
 */
function loadedOnFirstUse(packages: readonly string[]): Plugin {
  const names = new Set(packages);
  return {
    name: 'loaded-on-first-use',
    setup(on) {
      on.onResolve({ filter: /^[@a-z]/ }, (args) => (
        names.has(args.path) ? { path: `./${ON_FIRST_USE_DIR}/${standInFile(args.path)}`, external: true } : undefined
      ));
    },
  };
}

/** Options of {@link bundleCli}. */
export interface CliBundleOptions {
  /** The repository root (holds bin/cli.ts). */
  readonly projectRoot: string;
  /** The file to write. */
  readonly outfile: string;
  readonly flavour: 'package' | 'standalone';
}

/** esbuild's options for a flavour. */
export function cliBuildOptions(options: CliBundleOptions): BuildOptions {
  return {
    entryPoints: [path.join(options.projectRoot, 'bin', 'cli.ts')],
    outfile: options.outfile,
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'cjs',
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    metafile: true,
    ...(options.flavour === 'package'
      ? { packages: 'external' as const }
      : { external: [...NEVER_INLINED, ...HOST_PACKAGES] }),
  };
}

/** Builds the CLI; returns esbuild's metafile (what went in, what stayed external). */
export async function bundleCli(options: CliBundleOptions): Promise<Metafile> {
  const result = await build({ ...cliBuildOptions(options), plugins: [loadedOnFirstUse(LOADED_ON_FIRST_USE)] });
  const standIns = path.join(path.dirname(options.outfile), ON_FIRST_USE_DIR);
  await mkdir(standIns, { recursive: true });
  for (const name of LOADED_ON_FIRST_USE) await writeFile(path.join(standIns, standInFile(name)), standIn(name));
  return result.metafile!;
}

/** {@link bundleCli}, synchronously (for CDK's local bundling, which cannot wait). */
export function bundleCliSync(options: CliBundleOptions): Metafile {
  return buildSync(cliBuildOptions(options)).metafile!;
}
