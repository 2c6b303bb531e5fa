/**
 * Starting an external tool as a child process, the part every way of running one shares
 * (run-tool.ts, streaming-tool.ts): its stderr kept as {@link StderrLog} keeps it and fed line by
 * line to the caller, and its end recorded as the {@link ToolExit} that tool-errors.ts judges.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { StderrLog } from './stderr-log';
import type { ToolErrors, ToolExit } from './tool-errors';

/** What every way of running a tool takes. */
export interface ToolOptions {
  /** What the engine's tools' failures mean (its engine name, its reading of their stderr). */
  errors: ToolErrors;
  /** Short description for errors, e.g. `mariabackup --prepare`. */
  what: string;
  /** The tool's environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** The step's abort signal: stops the tool, which then fails with `ABORTED`. */
  signal?: AbortSignal;
  /** Every line of its stderr as it arrives (unredacted, for parsing). */
  onStderrLine?: (line: string) => void;
  /** Error code when its output names no known cause (default: the engine's). */
  fallbackCode?: string;
}

/** A started tool and how it will end (the promise never rejects). */
export interface StartedTool {
  child: ChildProcess;
  exited: Promise<ToolExit>;
}

/**
 * Spawns a tool with its stderr kept (`keep` lines, plus its error lines) and fed to
 * `onStderrLine`, and records its exit. With `stdout: 'capture'` the exit carries what it printed.
 */
export function startTool(
  command: string,
  argv: readonly string[],
  stdio: { stdin: 'pipe' | 'ignore'; stdout: 'pipe' | 'ignore' | 'capture' },
  options: ToolOptions & { timeoutMs?: number },
  keep?: number,
): StartedTool {
  const log = new StderrLog(options.onStderrLine, keep);
  const child = spawn(command, argv, {
    stdio: [stdio.stdin, stdio.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
    env: options.env ?? process.env,
    signal: options.signal,
    timeout: options.timeoutMs,
  });
  let error: NodeJS.ErrnoException | undefined;
  child.once('error', (e: NodeJS.ErrnoException) => { error ??= e; });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  const out: Buffer[] = [];
  if (stdio.stdout === 'capture') child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  const exited = new Promise<ToolExit>((resolve) => {
    child.once('close', (code, signal) => {
      log.end();
      const stdout = stdio.stdout === 'capture' ? { stdout: Buffer.concat(out).toString('utf8') } : {};
      resolve({ code, signal, error, stderr: log.text(), ...stdout });
    });
  });
  return { child, exited };
}
