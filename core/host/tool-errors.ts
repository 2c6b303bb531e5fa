/**
 * How a finished external tool becomes our error, the same for every engine's tools (mariabackup,
 * mbstream, mariadb-binlog, etcdctl, …): stopped by the step's abort, not started, starved by a
 * failed input, or failed — and then what its stderr says, as the engine reads it
 * ({@link ToolErrors.diagnose}). The stderr in a message is always redacted.
 */
import { PermanentError, TransientError, type ClassifiedError } from '../errors';
import { redactSecrets } from './stderr-log';

/** How a tool run ended: everything {@link toolExitError} judges it by. */
export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /**
   * The child process's own error: it could not be started (`ENOENT`, `EACCES`, ...), or it was
   * stopped by the step's abort signal (an `AbortError`).
   */
  error?: NodeJS.ErrnoException;
  /** The tool's input (a buffered run's stdin) failed: the store's read, a checksum check. */
  inputError?: Error;
  /** Its stderr, as {@link StderrLog.text} keeps it. */
  stderr: string;
  /** Its stdout, when the run captured it (shown when stderr is empty). */
  stdout?: string;
}

/** A known cause a failing tool's stderr names. */
export interface ToolDiagnosis {
  /** A retry may cure it (the server is restarting, unreachable); default: permanent. */
  transient?: boolean;
  code: string;
  /** What went wrong, in a few words (the message adds how the tool ended and its stderr). */
  summary: string;
}

/** What an engine's tools' failures mean. */
export interface ToolErrors {
  /** Stamped on every error. */
  engine: string;
  /** The code of a failure whose output names no known cause, e.g. `MYSQL_TOOL_FAILED`. */
  fallbackCode: string;
  /** The known cause a failed tool's output names, if any: its stderr, or its captured stdout when stderr is empty (some tools print refusals there). */
  diagnose?(output: string): ToolDiagnosis | undefined;
}

/** How much of a captured stdout stands in for an empty stderr. */
const STDOUT_TAIL = 2000;

/**
 * The error of a tool that ran and failed: `<what> <how it ended>: <summary>` and its redacted
 * output. Permanent unless the engine's diagnosis says a retry may cure it.
 * @param what short description, e.g. `mariabackup --backup`
 */
export function toolFailure(
  errors: ToolErrors, what: string, exit: { code: number | null; signal?: NodeJS.Signals | null; stdout?: string }, stderr: string, fallbackCode = errors.fallbackCode,
): ClassifiedError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const stdout = exit.stdout?.trim() ?? '';
  const output = stderr.trim() || (stdout.length <= STDOUT_TAIL ? stdout : `…${stdout.slice(-STDOUT_TAIL)}`);
  const detail = redactSecrets(output) || '(no output)';
  const diagnosis = errors.diagnose?.(stderr.trim() || stdout) ?? { code: fallbackCode, summary: 'see its output' };
  const message = `${what} ${how}: ${diagnosis.summary}\n${detail}`;
  const options = { code: diagnosis.code, engine: errors.engine };
  return diagnosis.transient ? new TransientError(message, options) : new PermanentError(message, options);
}

/**
 * The one place where a finished tool process becomes our error; undefined when it succeeded.
 * Buffered runs, streaming tools' exit gates and piped tools all ask it, in this order:
 *
 * 1. Stopped by the step's abort signal: PermanentError `ABORTED`, whatever the tool then exited
 *    with (killed by SIGTERM, or a code of its own from a signal handler — even 0, whose output
 *    must not be committed). The tool did not fail, so blaming it (with its stderr) would mislead,
 *    and an abort is not worth retrying in process; `ABORTED` is what every other part of a
 *    driver reports for the same signal.
 * 2. Not started: PermanentError `MISSING_TOOL`.
 * 3. Its input failed: that error (it is the cause; the tool's exit is only the consequence, and
 *    the input's own classification — a transient store read, a checksum mismatch — is kept).
 * 4. Exit 0: success.
 * 5. Non-zero exit or killed: {@link toolFailure}.
 * @param command the executable, for "not installed" messages
 * @param what short description for the other messages, e.g. `mariabackup --prepare`
 */
export function toolExitError(errors: ToolErrors, command: string, what: string, exit: ToolExit, fallbackCode = errors.fallbackCode): Error | undefined {
  const { error } = exit;
  const { engine } = errors;
  const output = redactSecrets(exit.stderr.trim());
  const withOutput = (message: string) => (output ? `${message}\n${output}` : message);
  if (error?.name === 'AbortError') {
    return new PermanentError(withOutput(`${what} was stopped: the step was aborted`), { code: 'ABORTED', engine, cause: error });
  }
  if (error && notStarted(error)) {
    return new PermanentError(
      error.code === 'ENOENT' ? `${command} is not installed on this host` : `cannot run ${command}: ${error.message}`,
      { code: 'MISSING_TOOL', engine, cause: error },
    );
  }
  if (exit.inputError) return exit.inputError;
  if (exit.code === 0 && !error) return undefined;
  if (error && (exit.code === 0 || (exit.code === null && !exit.signal))) {
    return new PermanentError(withOutput(`${what} failed: ${error.message}`), { code: fallbackCode, engine, cause: error });
  }
  return toolFailure(errors, what, exit, exit.stderr, fallbackCode);
}

/** True for a child process error that means the tool never ran. */
function notStarted(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOENT' || error.code === 'EACCES' || (error.syscall?.startsWith('spawn') ?? false);
}

/**
 * {@link toolExitError} for a process known only by its `error` event (not started, or aborted);
 * for callers that do not keep a {@link ToolExit}.
 */
export function spawnFailure(errors: ToolErrors, command: string, error: NodeJS.ErrnoException): Error {
  return toolExitError(errors, command, command, { code: null, signal: null, error, stderr: '' })!;
}
