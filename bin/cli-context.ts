/**
 * What every command needs: settings, the runtime (store, registry, steps' dependencies), and
 * output in the chosen format.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { PermanentError } from '../core/errors';
import { consoleLogger, type Logger } from '../core/logger';
import { settingsFromEnv, type Settings } from '../core/config/settings';
import { createRuntime, type Runtime } from '../core/config/runtime';
import { openStore } from '../core/store/open-store';
import { LocalDirectoryStore } from '../core/store/local-directory-store';
import { platformOf } from '../core/config/platform';
import { currentProcess } from '../core/host/process-identity';
import type { BuiltinDriver } from '../core/driver/builtin-driver';
import { pluginsOf } from '../core/driver/builtin-driver';
import type { LocalWorkflows } from '../statemachines/local/local-workflows';
import { progressReporter, type ProgressReporter } from './progress';

export interface GlobalOptions {
  store?: string;
  json?: boolean;
  logLevel?: Settings['logLevel'];
}

export class CliContext {
  readonly settings: Settings;
  readonly json: boolean;
  readonly progress: ProgressReporter;
  private runtime?: Promise<Runtime>;

  /**
   * @param drivers the built-in drivers (drivers/index.ts): the registry's built-ins and the demo's scenarios
   */
  constructor(options: GlobalOptions, env: NodeJS.ProcessEnv, readonly drivers: readonly BuiltinDriver[]) {
    // --log-level wins over DBBACKUP_LOG_LEVEL (and reaches the agents this process starts).
    const settings = settingsFromEnv(options.logLevel ? { ...env, DBBACKUP_LOG_LEVEL: options.logLevel } : env);
    this.settings = { ...settings, storeUrl: options.store ?? settings.storeUrl };
    this.json = options.json === true;
    this.progress = progressReporter(this.forPerson);
  }

  /** Whether a person reads stderr: a terminal, without --json. Logs and progress are written for them then. */
  get forPerson(): boolean {
    return !this.json && process.stderr.isTTY === true;
  }

  /** The console logger at the settings' level, its lines text for a person (the progress bar put away first), else JSON. */
  logger(): Logger {
    return this.forPerson ? consoleLogger(this.settings.logLevel, 'text', () => this.progress.stop()) : consoleLogger(this.settings.logLevel, 'json');
  }

  /**
   * Built on first use, so `--help` and usage errors never touch the store. A command that runs
   * whole backups and restores orchestrates them: it lives as long as they do, so their host
   * files are alive exactly while it runs. The host `agent` runs one step of a run orchestrated
   * elsewhere (by the CLI that started it, named in its environment, or by Step Functions).
   */
  runtimeFor(role: 'orchestrator' | 'agent' = 'orchestrator'): Promise<Runtime> {
    const orchestrator = role === 'agent' ? this.settings.orchestrator : currentProcess();
    const platform = platformOf(this.settings, role === 'agent' ? 'agent' : 'cli');
    this.runtime ??= createRuntime({ ...this.settings, orchestrator, platform }, this.logger(), {
      builtins: pluginsOf(this.drivers), onProgress: this.progress,
    });
    return this.runtime;
  }

  /**
   * Backups and restores through the synthesized state machines, run in this process. Loaded on
   * first use, so the host agent never loads the local runner (an optional dependency).
   * @throws PermanentError `LOCAL_RUNNER_MISSING` when this installation left it out
   */
  async workflows(): Promise<LocalWorkflows> {
    const { workflowsForSettings } = loadLocalWorkflows();
    return workflowsForSettings(await this.runtimeFor(), this.settings);
  }

  /**
   * For a command that reads backups: a local store whose directory does not exist is a mistyped
   * or unmounted path, not an empty store (`list` said "No backups"). Backups create it
   * (`mayCreate`). A path that is a file is no store either, for any command (`list` said "No
   * backups" there, `backup` and `restore` a key conflict).
   * @throws PermanentError `STORE_NOT_FOUND`
   */
  requireStore({ mayCreate = false } = {}): void {
    const store = openStore(this.settings.storeUrl);
    if (!(store instanceof LocalDirectoryStore)) return;
    const found = storeStat(store.root);
    if (found === 'directory' || (mayCreate && found === 'absent')) return;
    const why = {
      file: 'it is a file, not a directory (a mistyped --store / DBBACKUP_STORE?)',
      'under a file': 'a file stands where one of its parent directories should be (a mistyped --store / DBBACKUP_STORE?)',
      absent: 'the directory does not exist (a mistyped or unmounted --store / DBBACKUP_STORE? the first backup creates it)',
    }[found];
    throw new PermanentError(`no store at ${store.root}: ${why}`, { code: 'STORE_NOT_FOUND' });
  }

  /** Prints `value` as JSON with --json, else the human text. */
  print(value: unknown, human: () => string): void {
    this.progress.stop();
    process.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  }
}

/** What is at a local store's root: its directory, a file, a path through a file, or nothing. */
function storeStat(root: string): 'directory' | 'file' | 'under a file' | 'absent' {
  try {
    const found = statSync(root, { throwIfNoEntry: false });
    if (!found) return 'absent';
    return found.isDirectory() ? 'directory' : 'file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return 'under a file';
    throw error;
  }
}

/** The optional package that runs state machines in process. */
const LOCAL_RUNNER_PACKAGE = 'aws-local-stepfunctions';

type LocalWorkflowsModule = typeof import('../statemachines/local/local-workflows');

function loadLocalWorkflows(): LocalWorkflowsModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../statemachines/local/local-workflows') as LocalWorkflowsModule;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'MODULE_NOT_FOUND' || !message.includes(`'${LOCAL_RUNNER_PACKAGE}'`)) throw error;
    throw new PermanentError(
      `this installation has no local runner (${LOCAL_RUNNER_PACKAGE}, an optional peer dependency a database host does not need): ` +
        `backup, restore and demo run the state machines in process with it; install it beside dbbackup (npm install -g ${LOCAL_RUNNER_PACKAGE})`,
      { code: 'LOCAL_RUNNER_MISSING', cause: error },
    );
  }
}

/**
 * A JSON option: inline JSON, or `@path` to read it from a file.
 * Malformed JSON is a PermanentError naming the option.
 */
export function parseJsonOption(text: string, option: string): Record<string, unknown> {
  let raw = text;
  if (text.startsWith('@')) {
    try {
      raw = readFileSync(text.slice(1), 'utf8').replace(/^\uFEFF/, ''); // a byte-order mark some editors write first
    } catch (error) {
      throw new PermanentError(`${option}: cannot read ${text.slice(1)}: ${(error as Error).message}`, { code: 'INVALID_INPUT' });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    // A bare file name is a common slip: it is JSON only with an `@` before it.
    const file = !text.startsWith('@') && !/^\s*[[{"]/.test(text) && existsSync(text) ? ` (to read the file ${text}, give @${text})` : '';
    throw new PermanentError(`${option} is not valid JSON: ${(error as Error).message}${file}`, { code: 'INVALID_INPUT' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PermanentError(`${option} must be a JSON object`, { code: 'INVALID_INPUT' });
  }
  return value as Record<string, unknown>;
}
