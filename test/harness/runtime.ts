/**
 * A real runtime for tests: a local directory store and a spool in temp directories, the
 * built-in drivers, no external plugins. `env` may carry secrets for `env:` references.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRuntime, type Runtime } from '../../core/config/runtime';
import { silentLogger } from '../../core/logger';

export interface TestRuntime extends Runtime {
  root: string;
  storeDir: string;
  spoolRoot: string;
  dispose(): Promise<void>;
}

export async function createTestRuntime(options: { env?: NodeJS.ProcessEnv; storeUrl?: string; retryAttempts?: number } = {}): Promise<TestRuntime> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-runtime-'));
  const storeDir = path.join(root, 'store');
  const spoolRoot = path.join(root, 'spool');
  const runtime = await createRuntime(
    { storeUrl: options.storeUrl ?? storeDir, spoolRoot, logLevel: 'error', retryAttempts: options.retryAttempts ?? 2, env: options.env ?? {} },
    silentLogger,
  );
  return { ...runtime, root, storeDir, spoolRoot, dispose: () => rm(root, { recursive: true, force: true }) };
}
