/**
 * Running one of Cassandra's java tools (nodetool, sstableloader) to completion, its failures
 * typed by `errors` (core/host/tool-errors.ts reads its stdout too when stderr is empty: 2.1's
 * tools print some refusals there), and java missing named with its Debian package.
 */
import { PermanentError } from '../../core/errors';
import { runTool, type RunToolOptions } from '../../core/host/run-tool';
import type { ToolErrors } from '../../core/host/tool-errors';
import { CASSANDRA_JAVA_PACKAGE } from './host-requirements';

/**
 * Runs `java <argv>`; resolves with what it printed on stdout.
 * @throws PermanentError `MISSING_TOOL` without java; otherwise what `errors` makes of its output.
 */
export async function runJavaTool(tool: string, argv: readonly string[], errors: ToolErrors, options: Omit<RunToolOptions, 'errors' | 'captureStdout'>): Promise<string> {
  try {
    return (await runTool('java', argv, { ...options, errors, captureStdout: true })).stdout;
  } catch (error) {
    if (error instanceof PermanentError && error.code === 'MISSING_TOOL') {
      throw new PermanentError(`${error.message}: ${tool} needs java 17 (Debian: ${CASSANDRA_JAVA_PACKAGE})`, { code: 'MISSING_TOOL', engine: 'cassandra', cause: error });
    }
    throw error;
  }
}
