/**
 * sstableloader: streams the SSTables of one `<keyspace>/<table>` directory into a running cluster,
 * each partition to the replicas that own it in the target's ring (restore to another topology).
 * Run through the same JDK and distribution as nodetool (jvm.ts). 2.x reads the ring over Thrift
 * (`rpc_port`), 3.x and later over the native protocol, and take the inter-node port as an option.
 */
import { PermanentError } from '../../core/errors';
import { nameSome } from '../../core/name-some';
import type { ToolErrors } from '../../core/host/tool-errors';
import { runJavaTool } from './java-tool';
import { LOADER_CLASS, loaderJvmArgs } from './jvm';
import { majorVersion } from './ring';

export interface LoaderTarget {
  /** The distribution's home (distribution.ts). */
  home: string;
  /** Nodes it asks for the ring. */
  contactPoints: readonly string[];
  /** The target's Cassandra version (the ring's): which port it reads the ring on. */
  releaseVersion: string;
  nativePort: number;
  thriftPort: number;
  storagePort: number;
  username?: string;
  password?: string;
  /** Bytes per second the loader may stream at most (its `--throttle`, in whole megabits, at least 1). */
  rateLimit?: number;
}

/**
 * What a failed loader said. 2.x wraps every start-up failure in "Could not retrieve endpoint
 * ranges", so the causes are tested first and only a connection-level one is an outage.
 */
export const LOADER_ERRORS = {
  engine: 'cassandra',
  fallbackCode: 'CASSANDRA_LOADER_FAILED',
  diagnose: (output: string) => {
    if (/AuthenticationException|Authentication failed|bad credentials|Provided username .* incorrect/i.test(output)) return { code: 'CASSANDRA_AUTH_FAILED', summary: 'the target refused the credentials' };
    if (/Unknown keyspace|Keyspace .* does not exist|unconfigured (table|columnfamily)/i.test(output)) return { code: 'CASSANDRA_NO_SUCH_TABLE', summary: "the target lacks the table's schema" };
    if (/Connection refused|ConnectException|NoHostAvailable|No route to host|connect timed out|Connection timed out/i.test(output)) {
      return { transient: true, code: 'CASSANDRA_UNAVAILABLE', summary: "the target's nodes do not answer sstableloader (Thrift on 2.x, the native port on 3.x and later)" };
    }
    if (/Streaming (session|to the following hosts) failed|Stream failed/i.test(output)) return { transient: true, code: 'CASSANDRA_STREAM_FAILED', summary: 'streaming to a target node failed' };
    return undefined;
  },
} satisfies ToolErrors;

/**
 * What the loader left out, from what it printed: it skips an SSTable it cannot use (no such
 * table on the target, a component missing, a file it cannot open) with a line on stdout, and
 * still exits 0.
 */
export function skippedByLoader(output: string): string[] {
  return output.split('\n').map((line) => line.trim()).filter((line) => /^Skipping file\b/i.test(line) || /^No sstables? to stream/i.test(line));
}

/** sstableloader's arguments for `dir` (`…/<keyspace>/<table>`). */
export function loaderArgs(target: LoaderTarget, dir: string): string[] {
  const modern = majorVersion(target.releaseVersion) >= 3;
  return [
    '--nodes', target.contactPoints.join(','),
    '--port', String(modern ? target.nativePort : target.thriftPort),
    ...(modern ? ['--storage-port', String(target.storagePort)] : []),
    ...(target.username !== undefined ? ['--username', target.username, '--password', target.password ?? ''] : []),
    ...(target.rateLimit ? ['--throttle', String(Math.max(1, Math.floor((target.rateLimit * 8) / 1e6)))] : []),
    '--no-progress',
    dir,
  ];
}

/**
 * Streams the SSTables of `dir` into the target; resolves when every replica has them.
 * @throws PermanentError `MISSING_TOOL` without java, `CASSANDRA_AUTH_FAILED`,
 *   `CASSANDRA_NO_SUCH_TABLE`, `CASSANDRA_LOADER_SKIPPED` (it exited 0 but left SSTables out) or
 *   `CASSANDRA_LOADER_FAILED`; TransientError `CASSANDRA_UNAVAILABLE` or `CASSANDRA_STREAM_FAILED`.
 *   The password is never part of a message.
 */
export async function loadSSTables(target: LoaderTarget, dir: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const argv = loaderJvmArgs(target.home, target.storagePort, loaderArgs(target, dir));
  const what = `sstableloader ${dir} into ${target.contactPoints.join(',')}`;
  // The password is read from a private argument file, never seen in the process list.
  const stdout = await runJavaTool('sstableloader', argv, LOADER_ERRORS, { what, timeoutMs: options.timeoutMs, signal: options.signal, privateArgsFrom: argv.indexOf(LOADER_CLASS) });
  const skipped = skippedByLoader(stdout);
  if (skipped.length > 0) {
    throw new PermanentError(`${what} left SSTables out (nothing of them reached the target): ${nameSome(skipped, { most: 5, separator: '; ' })}`, { code: 'CASSANDRA_LOADER_SKIPPED', engine: 'cassandra' });
  }
}
