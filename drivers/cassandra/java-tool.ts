/**
 * Running one of Cassandra's java tools (nodetool, sstableloader) to completion, its failures
 * typed by `errors` (core/host/tool-errors.ts reads its stdout too when stderr is empty: 2.1's
 * tools print some refusals there), and java missing named with its Debian package.
 *
 * A secret among a tool's arguments (sstableloader's password) never shows in the host's process
 * list: the arguments from the main class on are read by java's launcher from an argument file
 * (`java … @file`, JDK 9 and later) only this user can read, removed when the tool ends.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PermanentError } from '../../core/errors';
import { runTool, type RunToolOptions } from '../../core/host/run-tool';
import type { ToolErrors } from '../../core/host/tool-errors';
import { CASSANDRA_JAVA_PACKAGE } from './host-requirements';

/**
 * Runs `java <argv>`; resolves with what it printed on stdout.
 * @throws PermanentError `MISSING_TOOL` without java; otherwise what `errors` makes of its output.
 */
export async function runJavaTool(
  tool: string, argv: readonly string[], errors: ToolErrors,
  options: Omit<RunToolOptions, 'errors' | 'captureStdout'> & { privateArgsFrom?: number },
): Promise<string> {
  const { privateArgsFrom, ...runOptions } = options;
  const dir = privateArgsFrom === undefined ? undefined : await mkdtemp(path.join(os.tmpdir(), 'dbbackup-java-args-'));
  try {
    let command = argv;
    if (dir !== undefined) {
      const file = path.join(dir, 'args');
      await writeFile(file, argFile(argv.slice(privateArgsFrom)), { mode: 0o600 });
      command = [...argv.slice(0, privateArgsFrom), `@${file}`];
    }
    return (await runTool('java', command, { ...runOptions, errors, captureStdout: true })).stdout;
  } catch (error) {
    if (error instanceof PermanentError && error.code === 'MISSING_TOOL') {
      throw new PermanentError(`${error.message}: ${tool} needs java 17 (Debian: ${CASSANDRA_JAVA_PACKAGE})`, { code: 'MISSING_TOOL', engine: 'cassandra', cause: error });
    }
    throw error;
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The text of a java argument file holding exactly `args`: each in double quotes on its own line,
 * with the launcher's escapes (a backslash before `\` and `"`; `\n`, `\r`, `\t`, `\f` for those
 * characters, which would otherwise end or split it).
 */
export function argFile(args: readonly string[]): string {
  const escapes: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\f': '\\f' };
  return args.map((arg) => `"${arg.replace(/[\\"\n\r\t\f]/g, (c) => escapes[c])}"\n`).join('');
}
