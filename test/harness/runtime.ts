/**
 * A real runtime for tests: a local directory store (or the given store URL) and a spool in temp
 * directories, the built-in drivers, no external plugins; backups and restores run through the
 * synthesized state machines in process. `env` may carry secrets for `env:` references. The host
 * allows forced restores inside the temp directory (where the tests put their targets) unless
 * `restoreRoots` says otherwise.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRuntime, type Runtime } from '../../core/config/runtime';
import { builtinPlugins } from '../../drivers';
import type { Platform } from '../../core/config/platform';
import { silentLogger, type Logger } from '../../core/logger';
/** The tests' own servers: any port on loopback (DBBACKUP_RESTORE_SERVERS entries). */
export const LOOPBACK_SERVERS = ['127.0.0.1:*', 'localhost:*'];

import { synthesizeDefinitions, type SynthesizedDefinitions } from '../../statemachines/definitions';
import { localWorkflows, type LocalWorkflowOptions, type LocalWorkflows } from '../../statemachines/local/local-workflows';
import { tempDir } from './test-run';

export interface TestRuntime extends Runtime, LocalWorkflows {
  root: string;
  storeDir: string;
  spoolRoot: string;
  dispose(): Promise<void>;
}

let definitions: SynthesizedDefinitions | undefined;

/** The shipped definitions, synthesized once per test file. */
export function shippedDefinitions(): SynthesizedDefinitions {
  definitions ??= synthesizeDefinitions();
  return definitions;
}

export async function createTestRuntime(options: {
  env?: NodeJS.ProcessEnv;
  storeUrl?: string;
  logger?: Logger;
  restoreRoots?: string[];
  /** Servers forced restores may replace databases on; by default any port on loopback (the tests' own servers). */
  restoreServers?: string[];
  /** Where the runtime runs (core/config/platform.ts): `aws` as the Lambda functions do; default local. */
  platform?: Platform;
  workflows?: Omit<LocalWorkflowOptions, 'definitions'>;
} = {}): Promise<TestRuntime> {
  const root = await tempDir('runtime');
  const storeDir = path.join(root, 'store');
  const spoolRoot = path.join(root, 'spool');
  const runtime = await createRuntime(
    { storeUrl: options.storeUrl ?? storeDir, spoolRoot, logLevel: 'error', env: options.env ?? {}, restoreRoots: options.restoreRoots ?? [os.tmpdir()], restoreServers: options.restoreServers ?? LOOPBACK_SERVERS, platform: options.platform },
    options.logger ?? silentLogger,
    { builtins: builtinPlugins() },
  );
  const workflows = localWorkflows(runtime, { waitMs: 10, definitions: shippedDefinitions(), ...options.workflows });
  return {
    ...runtime,
    ...workflows,
    root,
    storeDir,
    spoolRoot,
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}
