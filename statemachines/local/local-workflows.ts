/**
 * Backups and restores on one machine through the synthesized state machines: the definitions the
 * stack deploys (as the build shipped them), run in process, every Task the real handler, host
 * steps run by a local host runner (in process by default). What `npm start` and
 * `dbbackup backup|restore` use. Loaded only by those commands: it needs the optional dependency
 * aws-local-stepfunctions, which a database host's installation leaves out.
 */
import type { Runtime } from '../../core/config/runtime';
import type { BackupSummary } from '../../core/backup/backup-state';
import type { RestoreReport, RestoreSummary } from '../../core/restore/restore-state';
import { readJson } from '../../core/store/json';
import type { DrillRecord } from '../../core/catalog/drill-record';
import { readDrill } from '../../core/catalog/entry-files';
import { backupPrefix } from '../../core/catalog/layout';
import { PermanentError } from '../../core/errors';
import type { Settings } from '../../core/config/settings';
import type { HostRunner } from '../../core/host-runner/host-runner';
import { InlineHostRunner } from '../../core/host-runner/inline-runner';
import { LOCAL_POLL_SCHEDULE } from '../../core/host-runner/poll-schedule';
import { hostRunnerFromSettings, hostRunnerKindFromEnv } from '../../core/host-runner/open-host-runner';
import type { SynthesizedDefinitions } from '../asl';
import { shippedDefinitions, withTransientAttempts } from './shipped-definitions';
import { ExecutionFailedError, runLocalStateMachine, type LocalExecution, type LocalRunOptions } from './run-local';
import { retryWarnings } from './retry-warnings';

export interface LocalWorkflowOptions {
  /** Where host steps run; default: in this process. */
  hostRunner?: HostRunner;
  /** Seconds a host step may take. */
  hostStepTimeoutSeconds?: number;
  waitMs?: LocalRunOptions['waitMs'];
  retryIntervalMs?: LocalRunOptions['retryIntervalMs'];
  /** The definitions to run. Default: those the build shipped. */
  definitions?: SynthesizedDefinitions;
  /** `definitions` are the build's (their retry attempts changed at most): not validated again (run-local.ts `shipped`). Default: when `definitions` is omitted. */
  shipped?: boolean;
  onPayload?: LocalRunOptions['onPayload'];
}

export interface LocalWorkflows {
  backup(request: unknown): Promise<BackupSummary>;
  /** The restore's full report (every check), read from the store: the execution outputs only its summary. */
  restore(request: unknown): Promise<RestoreReport>;
  /**
   * A restore drill of one backup (the restore machine with `drill`): resolves with the record it
   * wrote next to the backup, a failed drill's included.
   * @throws the execution's error when it recorded nothing (no target to drill into, no such backup)
   */
  drill(request: DrillRequest): Promise<DrillRecord>;
  /** The whole execution (output, retries per state, path), for tests and diagnostics. */
  execute(machine: 'backup' | 'restore', input: unknown, onEvent?: LocalRunOptions['onEvent']): Promise<LocalExecution>;
}

/** A drill of one backup: into a scratch target started for it, or the empty `target` given. */
export interface DrillRequest {
  backupId: string;
  engine: string;
  instance: string;
  target?: Record<string, unknown>;
  /** Where the drill runs (an SSM managed instance id); absent = here. */
  host?: string;
  /** The key or passphrase the backup was encrypted with, by secret reference (none for KMS). */
  keys?: Record<string, unknown>;
  /** Fields set on the target (credentials its validation needs), secrets by reference. */
  targetSettings?: Record<string, unknown>;
}

export function localWorkflows(runtime: Runtime, options: LocalWorkflowOptions = {}): LocalWorkflows {
  let definitions = options.definitions;
  const shipped = options.shipped ?? definitions === undefined;
  const hostRunner = options.hostRunner ?? new InlineHostRunner(runtime.deps);
  const provider = async () => ({ runtime, hostRunner, hostStepTimeoutSeconds: options.hostStepTimeoutSeconds ?? 6 * 3600, pollSchedule: LOCAL_POLL_SCHEDULE });
  const execute = async (machine: 'backup' | 'restore', input: unknown, onEvent?: LocalRunOptions['onEvent']): Promise<LocalExecution> => {
    definitions ??= shippedDefinitions();
    return runLocalStateMachine(definitions[machine], input, { provider, waitMs: options.waitMs, retryIntervalMs: options.retryIntervalMs, onPayload: options.onPayload, onEvent, shipped });
  };
  /** Runs a machine; a failed execution is rethrown as the TransientError/PermanentError that failed it. */
  const outputOf = async (machine: 'backup' | 'restore', input: unknown): Promise<unknown> => {
    try {
      definitions ??= shippedDefinitions();
      return (await execute(machine, input, retryWarnings(definitions[machine], runtime.deps.logger, options.retryIntervalMs))).output;
    } catch (error) {
      throw error instanceof ExecutionFailedError ? error.toClassified() : error;
    }
  };
  return {
    execute,
    backup: async (request) => ((await outputOf('backup', request)) as { summary: BackupSummary }).summary,
    restore: async (request) => {
      const summary = ((await outputOf('restore', request)) as { report: RestoreSummary }).report;
      const report = await readJson<RestoreReport>(runtime.store, summary.reportKey);
      if (!report) throw new PermanentError(`the restore's report is not in the store (${summary.reportKey})`, { code: 'STEP_RECORD_MISSING' });
      return report;
    },
    drill: async ({ targetSettings, ...request }) => {
      const started = Date.now();
      const failure = await outputOf('restore', { ...request, drill: targetSettings ? { targetSettings } : {} }).then(() => undefined, (error: unknown) => error);
      const read = await readDrill(runtime.store, backupPrefix(request.engine, request.instance, request.backupId));
      // The backup's newest drill is this one when it began after this run did (the record says when the restore began).
      if (read && 'value' in read && Date.parse(read.value.drilledAt) >= started) return read.value;
      throw failure ?? new PermanentError(`the drill of ${request.backupId} recorded nothing`, { code: 'STEP_RECORD_MISSING' });
    },
  };
}

/**
 * The workflows the CLI uses: host steps where `DBBACKUP_HOST_RUNNER` says (in process by
 * default), and the shipped retry policy unless `DBBACKUP_RETRY_ATTEMPTS` overrides its attempts.
 */
export function workflowsForSettings(runtime: Runtime, settings: Settings): LocalWorkflows {
  const hostRunner = hostRunnerFromSettings({
    ...hostRunnerKindFromEnv(settings.env),
    deps: runtime.deps,
    store: runtime.store,
    storeUrl: settings.storeUrl,
  });
  const shipped = shippedDefinitions();
  const definitions = settings.retryAttempts === undefined ? shipped : withTransientAttempts(shipped, settings.retryAttempts);
  return localWorkflows(runtime, { hostRunner, definitions, shipped: true });
}
