/**
 * Running an external tool to completion (`mbstream -x`, `mariabackup --prepare`, `etcdctl
 * snapshot restore`): its stdin fed from a stream, its stdout ignored or captured, its stderr kept
 * for the error message, and its end judged by tool-errors.ts.
 */
import type { Readable } from 'node:stream';
import { toolExitError } from './tool-errors';
import { startTool, type ToolOptions } from './tool-process';

export interface RunToolOptions extends ToolOptions {
  /** Piped to the tool's stdin; destroyed if the tool exits before reading it all. */
  stdin?: Readable;
  /** Keep what it prints on stdout (small outputs: a status in JSON); default: discarded. */
  captureStdout?: boolean;
  /** Stops it (SIGTERM) after this long; it then fails as killed. */
  timeoutMs?: number;
}

/**
 * Runs a tool to completion, `stdin` piped into it. A failing input stops the tool (SIGTERM) and
 * is the run's error.
 * @returns its kept stderr, and its stdout when captured (else `''`)
 * @throws what {@link toolExitError} makes of its exit.
 */
export async function runTool(command: string, argv: readonly string[], options: RunToolOptions): Promise<{ stdout: string; stderr: string }> {
  const { stdin } = options;
  const stdout = options.captureStdout ? 'capture' : 'ignore';
  const { child, exited } = startTool(command, argv, { stdin: stdin ? 'pipe' : 'ignore', stdout }, options, 200);
  let inputError: Error | undefined;
  if (stdin && child.stdin) {
    const toolInput = child.stdin;
    toolInput.on('error', () => { /* the exit code tells */ });
    // The tool must not wait for the rest of a failed input: close its stdin, and stop it.
    stdin.on('error', (error) => { inputError ??= error; toolInput.destroy(); child.kill('SIGTERM'); });
    stdin.pipe(toolInput);
  }
  const exit = await exited;
  // A tool that stopped early leaves its input unread: release it (file handles, sockets).
  if (stdin && !stdin.readableEnded) stdin.destroy();
  const error = toolExitError(options.errors, command, options.what, { ...exit, inputError }, options.fallbackCode);
  if (error) throw error;
  return { stdout: exit.stdout ?? '', stderr: exit.stderr };
}

/**
 * Runs a tool and returns everything it printed, stdout and stderr (small outputs: `--version`).
 * Its exit code is not judged: a tool may print its version and exit non-zero.
 * @throws PermanentError `MISSING_TOOL` when it cannot be started.
 */
export async function toolOutput(command: string, argv: readonly string[], options: Pick<ToolOptions, 'errors'>): Promise<string> {
  const what = `${command} ${argv.join(' ')}`;
  const { exited } = startTool(command, argv, { stdin: 'ignore', stdout: 'capture' }, { ...options, what });
  const exit = await exited;
  if (exit.error) throw toolExitError(options.errors, command, what, exit)!;
  return [exit.stdout ?? '', exit.stderr].filter(Boolean).join('\n');
}
