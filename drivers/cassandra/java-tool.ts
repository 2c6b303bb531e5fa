/**
 * Running one of Cassandra's java tools (nodetool, sstableloader) to completion, with its failures
 * typed: java missing names the Debian package; a failure whose stderr named no known cause is
 * read again from its message, which holds its stdout (where 2.1's tools print some refusals).
 */
import { PermanentError, TransientError } from '../../core/errors';
import { runTool, type RunToolOptions } from '../../core/host/run-tool';
import type { ToolErrors } from '../../core/host/tool-errors';
import { CASSANDRA_JAVA_PACKAGE } from './host-requirements';

/**
 * Runs `java <argv>`; resolves with what it printed on stdout.
 * @throws PermanentError `MISSING_TOOL` without java; otherwise what `errors` makes of its output.
 */
export async function runJavaTool(tool: string, argv: readonly string[], errors: ToolErrors & { diagnose: NonNullable<ToolErrors['diagnose']> }, options: Omit<RunToolOptions, 'errors' | 'captureStdout'>): Promise<string> {
  try {
    return (await runTool('java', argv, { ...options, errors, captureStdout: true })).stdout;
  } catch (error) {
    if (error instanceof PermanentError && error.code === 'MISSING_TOOL') {
      throw new PermanentError(`${error.message}: ${tool} needs java 17 (Debian: ${CASSANDRA_JAVA_PACKAGE})`, { code: 'MISSING_TOOL', engine: 'cassandra', cause: error });
    }
    const diagnosis = error instanceof PermanentError && error.code === errors.fallbackCode ? errors.diagnose(error.message) : undefined;
    if (!diagnosis) throw error;
    const { message } = error as PermanentError;
    const typed = { code: diagnosis.code, engine: 'cassandra', cause: error };
    throw diagnosis.transient ? new TransientError(message, typed) : new PermanentError(message, typed);
  }
}
