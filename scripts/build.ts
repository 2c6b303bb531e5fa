/**
 * `npm run build` (run by `npm install`, `npm pack`, `npm start` and the test setup): writes what
 * `bin/dbbackup.js` runs, so nothing is compiled or synthesized at run time —
 *
 * - `dist/cli.js`: the CLI and host agent as JavaScript (scripts/cli-bundle.ts, `package` flavour);
 * - `dist/state-machines.json`: both state machines synthesized from the CDK constructs the stack
 *   deploys, which local backups and restores run in process;
 *
 * and first, the encoder threads' WebAssembly kernel the CLI bundles (scripts/build-batch-kernel.ts).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILT_FILES } from '../core/host/package-root';
import { synthesizeDefinitions } from '../statemachines/definitions';
import { buildBatchKernel } from './build-batch-kernel';
import { bundleCli } from './cli-bundle';

/** Builds into `<projectRoot>/dist`, replacing what was there. */
export async function buildProject(projectRoot: string = path.resolve(__dirname, '..')): Promise<void> {
  buildBatchKernel(projectRoot);
  const dist = path.join(projectRoot, path.dirname(BUILT_FILES.cli));
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  await bundleCli({ projectRoot, outfile: path.join(projectRoot, BUILT_FILES.cli), flavour: 'package' });
  const definitions = synthesizeDefinitions();
  await writeFile(path.join(projectRoot, BUILT_FILES.definitions), `${JSON.stringify(definitions, null, 2)}\n`);
}

if (require.main === module) {
  buildProject().catch((error: unknown) => {
    process.stderr.write(`build failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  });
}
