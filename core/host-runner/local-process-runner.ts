/**
 * A {@link HostRunner} that runs the agent as a detached child process on this host:
 * `node <dbbackup>/bin/dbbackup.js [--store <url>] agent <step> --input -`, the input on stdin.
 *
 * Everything about a command lives in files under `<directory>/<commandId>/`, so any process can
 * poll or cancel it, not only the one that started it:
 *
 * | file | written by | content |
 * |---|---|---|
 * | `command.json` | submit | the pending submission |
 * | `input.json` | submit | the step input (the agent's stdin) |
 * | `pid` | submit | pid of the wrapper shell, leader of the command's process group |
 * | `stdout`, `stderr` | the agent | its output |
 * | `exit` | the wrapper shell, when the agent ends | the agent's exit status |
 * | `stopped` | poll / cancel | `{ reason: 'timeout' \| 'cancelled', at }` when the runner stopped it |
 *
 * A command past its deadline is stopped by signalling its whole process group (SIGTERM, then
 * SIGKILL after a grace period). The `host` of a command is recorded but not used: every host is
 * this one. Command directories are kept (so polls stay repeatable); `purge` removes old ones.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentResult } from '../agent/agent-steps';
import { PermanentError, TransientError } from '../errors';
import { RUN_ORCHESTRATOR_ENV } from '../config/settings';
import { builtFile } from '../host/package-root';
import { writeFileAtomically } from '../io/json-file';
import { formatIdentity, type ProcessIdentity } from '../host/process-identity';
import { agentResultFromStdout, textTail } from './agent-result';
import {
  HOST_ERROR_CODES, assertHostCommand, isPastDeadline, permanentFailure, submissionTimes,
  type HostCommand, type HostPoll, type HostRunner, type HostSubmission, type PendingSubmission,
} from './host-runner';

/** Options of {@link LocalProcessHostRunner}. */
export interface LocalProcessRunnerOptions {
  /** Where command directories are kept. Default `<tmp>/dbbackup-host-runner`. */
  directory?: string;
  /**
   * The argv that starts the agent CLI, before the `agent <step> ...` arguments.
   * Default: this Node binary running this copy's `bin/dbbackup.js`.
   */
  agentCommand?: string[];
  /** Passed to the agent as `--store <url>` (otherwise the agent uses its env DBBACKUP_STORE). */
  storeUrl?: string;
  /** Environment of the agent process. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * The process orchestrating the runs whose steps this runner starts (the CLI): passed to each
   * agent, so the host files of a run count as alive while it lives, between the agents' steps.
   */
  orchestrator?: ProcessIdentity;
  /** How long a stopped command gets between SIGTERM and SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

/** Why the runner stopped a command, as recorded in its `stopped` file. */
interface StopRecord {
  reason: 'timeout' | 'cancelled';
  at: string;
}

/**
 * Runs as `sh -c WRAPPER dbbackup-agent <dir> <argv...>`: the agent with its stdio on files, then
 * the exit status written atomically. The shell outlives the process that spawned it.
 */
const WRAPPER = [
  'dir="$1"; shift',
  '"$@" <"$dir/input.json" >"$dir/stdout" 2>"$dir/stderr"',
  'code=$?',
  'printf "%s\\n" "$code" >"$dir/exit.tmp" && mv "$dir/exit.tmp" "$dir/exit"',
].join('\n');

/** Command ids are what this runner creates: `local-<uuid>`; anything else could escape the directory. */
const COMMAND_ID = /^local-[0-9a-f-]{36}$/;

/** How long a command directory may lack its pid file before the command counts as never started. */
const START_GRACE_MS = 10_000;

/** Runs agent steps as detached child processes, their state in files. */
export class LocalProcessHostRunner implements HostRunner {
  readonly kind = 'local';
  /** Absolute directory holding one subdirectory per command. */
  readonly directory: string;
  private readonly agentCommand: string[];
  private readonly storeUrl?: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly killGraceMs: number;
  private readonly now: () => Date;

  constructor(options: LocalProcessRunnerOptions = {}) {
    this.directory = path.resolve(options.directory ?? path.join(os.tmpdir(), 'dbbackup-host-runner'));
    this.agentCommand = options.agentCommand ?? [process.execPath, builtFile('bin')];
    if (this.agentCommand.length === 0) {
      throw new PermanentError('the local host runner needs a non-empty agent command', { code: 'INVALID_CONFIG' });
    }
    this.storeUrl = options.storeUrl;
    const env = options.env ?? process.env;
    this.env = options.orchestrator ? { ...env, [RUN_ORCHESTRATOR_ENV]: formatIdentity(options.orchestrator) } : env;
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.now = options.now ?? (() => new Date());
  }

  /** Starts the agent detached and returns at once with the command's id. */
  async submit(command: HostCommand): Promise<HostSubmission> {
    assertHostCommand(command);
    const commandId = `local-${randomUUID()}`;
    const dir = this.commandDir(commandId);
    const submission: PendingSubmission = {
      done: false,
      commandId,
      ...(command.host === undefined ? {} : { host: command.host }),
      step: command.step,
      ...submissionTimes(this.now(), command.timeoutSeconds),
    };
    const argv = [
      ...this.agentCommand,
      ...(this.storeUrl === undefined ? [] : ['--store', this.storeUrl]),
      'agent', command.step, '--input', '-',
    ];
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'input.json'), JSON.stringify(command.input ?? null));
      await writeFileAtomically(path.join(dir, 'command.json'), JSON.stringify({ ...submission, argv }));
      const pid = await spawnDetached(argv, dir, this.env);
      await writeFileAtomically(path.join(dir, 'pid'), `${pid}\n`);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      if (error instanceof PermanentError || error instanceof TransientError) throw error;
      throw new PermanentError(`cannot start the host agent (${argv.join(' ')}): ${(error as Error).message}`,
        { code: HOST_ERROR_CODES.commandFailed, cause: error });
    }
    return submission;
  }

  /** Reads the command's files; stops it when it is past its deadline. */
  async poll(submission: HostSubmission): Promise<HostPoll> {
    if (submission.done) return submission;
    const dir = this.commandDir(submission.commandId);
    if (!(await exists(path.join(dir, 'command.json')))) {
      return { done: true, result: permanentFailure(HOST_ERROR_CODES.commandNotFound, `no local command ${submission.commandId} in ${this.directory}`) };
    }
    const finished = await this.finishedResult(submission);
    if (finished) return { done: true, result: finished };
    if (isPastDeadline(submission, this.now())) {
      await this.stop(submission, 'timeout');
      return { done: true, result: (await this.finishedResult(submission)) ?? timeoutResult(submission) };
    }
    const pid = await readPid(dir);
    if (pid === undefined) {
      if (this.now().getTime() - Date.parse(submission.submittedAt) < START_GRACE_MS) return { done: false };
      return { done: true, result: permanentFailure(HOST_ERROR_CODES.commandFailed, `local command ${submission.commandId} never started (no pid file)`) };
    }
    if (groupAlive(pid)) return { done: false };
    // The group is gone: the exit file may have landed since the first look.
    return {
      done: true,
      result: (await this.finishedResult(submission))
        ?? permanentFailure(HOST_ERROR_CODES.commandFailed, `local command ${submission.commandId} (pid ${pid}) disappeared without an exit status; stderr: ${await readTail(path.join(dir, 'stderr'))}`),
    };
  }

  /** Stops the command's process group if it still runs, recording that it was cancelled. */
  async cancel(submission: HostSubmission): Promise<void> {
    if (submission.done) return;
    if (!(await exists(path.join(this.commandDir(submission.commandId), 'command.json')))) return;
    if (await exists(path.join(this.commandDir(submission.commandId), 'exit'))) return;
    await this.stop(submission, 'cancelled');
  }

  /** Deletes the directories of commands submitted more than `olderThanMs` ago that are no longer running. */
  async purge(olderThanMs: number): Promise<number> {
    let removed = 0;
    const entries = await readdir(this.directory).catch(() => [] as string[]);
    for (const name of entries) {
      if (!COMMAND_ID.test(name)) continue;
      const dir = path.join(this.directory, name);
      const info = await stat(dir).catch(() => undefined);
      if (!info || this.now().getTime() - info.mtimeMs < olderThanMs) continue;
      const pid = await readPid(dir);
      if (pid !== undefined && groupAlive(pid)) continue;
      await rm(dir, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

  /** The result once the command ended or was stopped, else undefined. */
  private async finishedResult(submission: PendingSubmission): Promise<AgentResult | undefined> {
    const dir = this.commandDir(submission.commandId);
    const stopped = await readStopRecord(dir);
    if (stopped?.reason === 'timeout') return timeoutResult(submission);
    if (stopped?.reason === 'cancelled') {
      return permanentFailure(HOST_ERROR_CODES.cancelled, `local command ${submission.commandId} (${submission.step ?? 'agent step'}) was cancelled at ${stopped.at}`);
    }
    const exitText = await readFile(path.join(dir, 'exit'), 'utf8').catch(() => undefined);
    if (exitText === undefined) return undefined;
    const exitCode = Number(exitText.trim());
    const stdout = await readFile(path.join(dir, 'stdout'), 'utf8').catch(() => '');
    return agentResultFromStdout(stdout) ?? permanentFailure(HOST_ERROR_CODES.commandFailed,
      `the host agent for ${submission.step ?? 'the step'} exited with code ${exitCode} without printing a result; stderr: ${await readTail(path.join(dir, 'stderr'))}`);
  }

  /** Records why the command is stopped, then signals its process group until it is gone. */
  private async stop(submission: PendingSubmission, reason: StopRecord['reason']): Promise<void> {
    const dir = this.commandDir(submission.commandId);
    if (!(await readStopRecord(dir))) {
      const record: StopRecord = { reason, at: this.now().toISOString() };
      await writeFileAtomically(path.join(dir, 'stopped'), JSON.stringify(record));
    }
    const pid = await readPid(dir);
    if (pid !== undefined) await killGroup(pid, this.killGraceMs);
  }

  private commandDir(commandId: string): string {
    if (!COMMAND_ID.test(commandId)) {
      throw new PermanentError(`not a local host runner command id: ${JSON.stringify(commandId)}`, { code: 'INVALID_INPUT' });
    }
    return path.join(this.directory, commandId);
  }
}

/** The result of a command stopped at its deadline. */
function timeoutResult(submission: PendingSubmission): AgentResult {
  return permanentFailure(HOST_ERROR_CODES.timeout,
    `host step ${submission.step ?? ''} (local command ${submission.commandId}) ran past its deadline ${submission.deadline} and was killed`);
}

/** Spawns the wrapper shell as leader of a new process group, detached from this process. */
function spawnDetached(argv: string[], dir: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise(function startChild(resolve, reject) {
    const child = spawn('sh', ['-c', WRAPPER, 'dbbackup-agent', dir, ...argv], { detached: true, stdio: 'ignore', env });
    child.once('error', reject);
    child.once('spawn', function spawned() {
      child.unref();
      if (child.pid === undefined) reject(new Error('no pid for the spawned agent'));
      else resolve(child.pid);
    });
  });
}

/** True while any process of the group led by `pid` exists. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM to the group, then SIGKILL if it is still there after `graceMs`. */
async function killGroup(pid: number, graceMs: number): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < until) await sleep(50);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  const killedUntil = Date.now() + 5000;
  while (groupAlive(pid) && Date.now() < killedUntil) await sleep(20);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readPid(dir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dir, 'pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function readStopRecord(dir: string): Promise<StopRecord | undefined> {
  const text = await readFile(path.join(dir, 'stopped'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as StopRecord;
  } catch {
    return undefined;
  }
}

/** The end of a (possibly large) file, for error messages: reads at most its last 16 KiB. */
async function readTail(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '(none)';
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 16 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return textTail(buffer.toString('utf8')) || '(empty)';
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

