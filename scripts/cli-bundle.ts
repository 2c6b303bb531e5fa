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
import { build, buildSync, type BuildOptions, type Metafile } from 'esbuild';
import path from 'node:path';
import { HOST_PACKAGES } from '../infra/runtime-dependencies';

/** Node.js the built CLI runs on (also `engines` in package.json and the host install check). */
export const NODE_TARGET = 'node20';

/** Packages the CLI must never carry inlined. */
export const NEVER_INLINED: readonly string[] = ['aws-cdk-lib', 'constructs', 'aws-local-stepfunctions'];

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
  const result = await build(cliBuildOptions(options));
  return result.metafile!;
}

/** {@link bundleCli}, synchronously (for CDK's local bundling, which cannot wait). */
export function bundleCliSync(options: CliBundleOptions): Metafile {
  return buildSync(cliBuildOptions(options)).metafile!;
}
