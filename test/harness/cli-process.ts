/**
 * The CLI as real child processes, for tests that kill one mid-run: started with `node
 * bin/dbbackup.js` (one process, so SIGKILL stops the run itself), waited for by what it leaves on
 * disk (never by a fixed sleep), killed with SIGKILL, paused and continued with SIGSTOP/SIGCONT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CLI = path.resolve(__dirname, '../../bin/dbbackup.js');

/** A running CLI and, once it exits, its result. */
export interface CliRun {
  child: ChildProcess;
  pid: number;
  /** Resolves when it exits (with its signal when killed). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  stderr(): string;
}

/** Starts `dbbackup <args>` with `env` added to this process's environment. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, pid: child.pid!, exited, stderr: () => stderr };
}

/** Runs `dbbackup <args>` to its end. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startCli(args, env).exited;
}

/**
 * Polls `check` until it returns a value (not undefined/false); fails when `run` exits first or
 * after `timeoutMs` (a generous bound for a loaded machine, not a measurement).
 */
export async function waitFor<T>(run: CliRun, what: string, check: () => Promise<T | undefined | false>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(`the CLI exited (${run.child.exitCode ?? run.child.signalCode}) before ${what}: ${run.stderr()}`);
    }
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${run.stderr()}`);
    await sleep(20);
  }
}

/** SIGKILLs the CLI and waits until it is gone. */
export async function killHard(run: CliRun): Promise<void> {
  run.child.kill('SIGKILL');
  const result = await run.exited;
  if (result.signal !== 'SIGKILL') throw new Error(`the CLI ended before it was killed (exit ${result.code}): ${result.stderr}`);
}
