/**
 * sstableloader: streams the SSTables of one `<keyspace>/<table>` directory into a running cluster,
 * each partition to the replicas that own it in the target's ring (restore to another topology).
 * Run through the same JDK and distribution as nodetool (jvm.ts). 2.x reads the ring over Thrift
 * (`rpc_port`), 3.x and later over the native protocol, and take the inter-node port as an option.
 */
import type { ToolErrors } from '../../core/host/tool-errors';
import { runJavaTool } from './java-tool';
import { loaderJvmArgs } from './jvm';
import { majorVersion } from './restore-plan';

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
}

const LOADER_ERRORS = {
  engine: 'cassandra',
  fallbackCode: 'CASSANDRA_LOADER_FAILED',
  diagnose: (output) => {
    if (/Could not retrieve endpoint ranges|Connection refused|ConnectException|NoHostAvailable/i.test(output)) {
      return { transient: true, code: 'CASSANDRA_UNAVAILABLE', summary: "the target's nodes do not answer sstableloader (Thrift on 2.x, the native port on 3.x and later)" };
    }
    if (/AuthenticationException|Authentication|credentials/i.test(output)) return { code: 'CASSANDRA_AUTH_FAILED', summary: 'the target refused the credentials' };
    if (/Unknown keyspace|doesn't exist|does not exist/i.test(output)) return { code: 'CASSANDRA_NO_SUCH_TABLE', summary: "the target lacks the table's schema" };
    if (/Streaming (session|to the following hosts) failed|Stream failed/i.test(output)) return { transient: true, code: 'CASSANDRA_STREAM_FAILED', summary: 'streaming to a target node failed' };
    return undefined;
  },
} satisfies ToolErrors;

/** sstableloader's arguments for `dir` (`…/<keyspace>/<table>`). */
export function loaderArgs(target: LoaderTarget, dir: string): string[] {
  const modern = majorVersion(target.releaseVersion) >= 3;
  return [
    '--nodes', target.contactPoints.join(','),
    '--port', String(modern ? target.nativePort : target.thriftPort),
    ...(modern ? ['--storage-port', String(target.storagePort)] : []),
    ...(target.username !== undefined ? ['--username', target.username, '--password', target.password ?? ''] : []),
    '--no-progress',
    dir,
  ];
}

/**
 * Streams the SSTables of `dir` into the target; resolves when every replica has them.
 * @throws PermanentError `MISSING_TOOL` without java, `CASSANDRA_AUTH_FAILED`,
 *   `CASSANDRA_NO_SUCH_TABLE` or `CASSANDRA_LOADER_FAILED`; TransientError `CASSANDRA_UNAVAILABLE`
 *   or `CASSANDRA_STREAM_FAILED`. The password is never part of a message.
 */
export async function loadSSTables(target: LoaderTarget, dir: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const argv = loaderJvmArgs(target.home, target.storagePort, loaderArgs(target, dir));
  await runJavaTool('sstableloader', argv, LOADER_ERRORS, { what: `sstableloader ${dir} into ${target.contactPoints.join(',')}`, timeoutMs: options.timeoutMs, signal: options.signal });
}
