/**
 * The one place that reads environment variables. Everything else receives these settings. The
 * CLI and the host agent read them from the environment with the host's own configuration file
 * filling what it leaves unset (host-config.ts).
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | DBBACKUP_STORE | store URL: a path, `file:///abs`, or `s3://bucket/prefix` | `./backups` |
 * | DBBACKUP_SPOOL_DIR | host-local spool for snapshots and downloads (on disk, not tmpfs: see {@link defaultSpoolRoot}) | `/var/lib/dbbackup/spool` (root), `$XDG_STATE_HOME/dbbackup/spool` (others) |
 * | DBBACKUP_LOG_LEVEL | debug, info, warn, error (any case) | `warn` for the CLI |
 * | DBBACKUP_RETRY_ATTEMPTS | local runs: attempts per step on TransientError (the state machines' policy otherwise) | the policy's |
 * | DBBACKUP_CIRCUIT_BREAKER | `reset`: close each endpoint's circuit breaker before this process's first call to it | unset |
 * | DBBACKUP_HOST_RUNNER | where host steps run locally: inline, local (child process), ssm | inline |
 * | AWS_ENDPOINT_URL(_S3), AWS_REGION, DBBACKUP_S3_FORCE_PATH_STYLE | S3 endpoint (s3rver, LocalStack, AWS) | AWS defaults |
 * | AWS_ENDPOINT_URL_KMS | KMS endpoint, for encrypted backups' data keys (a stand-in, LocalStack) | AWS_ENDPOINT_URL, else AWS |
 * | DBBACKUP_PLUGIN_PATH, DBBACKUP_PLUGIN_PINS, DBBACKUP_ALLOW_UNPINNED_PLUGINS | external driver plugins | none |
 * | DBBACKUP_RUN_ORCHESTRATOR | set by the local host runner for its agents: `pid:startTime` of the CLI orchestrating the run | none |
 * | DBBACKUP_RESTORE_ROOTS | `:`-separated absolute directories inside which a forced restore may replace data (host/restore-roots.ts) | none: force replaces no host path |
 * | DBBACKUP_HOST_CONFIG | the host configuration file (host-config.ts) | `/etc/dbbackup/dbbackup.env` |
 * | DBBACKUP_PLATFORM | `aws` or `local`: where this process runs, which decides what it trusts (platform.ts) | by role: Lambda and SSM-run agents `aws`, the CLI `local` |
 */
import os from 'node:os';
import path from 'node:path';
import { PermanentError } from '../errors';

/** The log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
import { parseIdentity, type ProcessIdentity } from '../host/process-identity';
import { PLATFORM_ENV, PLATFORMS, type Platform } from './platform';
import { parseRestoreServers, RESTORE_ROOTS_ENV, RESTORE_SERVERS_ENV } from '../host/restore-roots';
import { hostPathProblem } from './path-field';

/** The variable the local host runner passes its agents: who orchestrates their run. */
export const RUN_ORCHESTRATOR_ENV = 'DBBACKUP_RUN_ORCHESTRATOR';

export interface Settings {
  storeUrl: string;
  spoolRoot: string;
  logLevel: LogLevel;
  /** Overrides the state machines' TransientError attempts in local runs; undefined = the shipped policy. */
  retryAttempts?: number;
  /** `reset`: close each endpoint's circuit before this process's first call to it (an operator override). */
  circuitBreaker?: 'reset';
  /**
   * The process on this host that orchestrates the runs whose steps this process runs, when it
   * lives as long as those runs (the CLI); absent when they are orchestrated elsewhere (Step Functions).
   */
  orchestrator?: ProcessIdentity;
  /** Directories inside which a forced restore may replace data on this host (DBBACKUP_RESTORE_ROOTS). */
  restoreRoots?: string[];
  /** Servers on which a forced restore may replace databases (DBBACKUP_RESTORE_SERVERS). */
  restoreServers?: string[];
  /** Where this process runs, when DBBACKUP_PLATFORM says so; otherwise its role decides (platform.ts). */
  platform?: Platform;
  env: NodeJS.ProcessEnv;
}

/**
 * Reads the settings from `env`.
 * @throws PermanentError `INVALID_INPUT` naming the variable and what it accepts, for a value that
 *   is not one (an unknown log level, attempts that are not a whole number ≥ 1): a typo fails loudly.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  return {
    storeUrl: env.DBBACKUP_STORE || './backups',
    spoolRoot: env.DBBACKUP_SPOOL_DIR ? parseSpoolDir(env.DBBACKUP_SPOOL_DIR) : defaultSpoolRoot(env),
    logLevel: env.DBBACKUP_LOG_LEVEL ? parseLogLevel(env.DBBACKUP_LOG_LEVEL.toLowerCase(), 'DBBACKUP_LOG_LEVEL') : 'warn',
    retryAttempts: env.DBBACKUP_RETRY_ATTEMPTS ? parseAttempts(env.DBBACKUP_RETRY_ATTEMPTS) : undefined,
    ...(env[CIRCUIT_RESET_ENV] ? { circuitBreaker: parseCircuitBreaker(env[CIRCUIT_RESET_ENV]) } : {}),
    orchestrator: parseIdentity(env[RUN_ORCHESTRATOR_ENV]),
    restoreRoots: parseRestoreRoots(env[RESTORE_ROOTS_ENV]),
    restoreServers: parseRestoreServers(env[RESTORE_SERVERS_ENV]),
    ...(env[PLATFORM_ENV] ? { platform: parsePlatform(env[PLATFORM_ENV]) } : {}),
    env,
  };
}

/** The spool of root, and so of the agent SSM runs: persistent, outside the tmpfs /tmp often is. */
export const ROOT_SPOOL_DIR = '/var/lib/dbbackup/spool';

/**
 * Where the spool is when DBBACKUP_SPOOL_DIR does not say: on disk, never on the tmpfs `/tmp`
 * often is (a snapshot the size of a database would fill memory, and a reboot would lose what a
 * resumed backup needs). Root (the agent SSM runs, a service): {@link ROOT_SPOOL_DIR}; any other
 * user: their state directory, `$XDG_STATE_HOME/dbbackup/spool` (`~/.local/state/dbbackup/spool`).
 */
export function defaultSpoolRoot(env: NodeJS.ProcessEnv, uid: number | undefined = process.getuid?.()): string {
  if (uid === 0) return ROOT_SPOOL_DIR;
  const stateHome = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(stateHome, 'dbbackup', 'spool');
}

/** `value` as a log level. @throws PermanentError `INVALID_INPUT` naming `source` and the allowed values. */
export function parseLogLevel(value: string, source: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new PermanentError(`${source} must be one of ${LOG_LEVELS.join(', ')}; got '${value}'`, { code: 'INVALID_INPUT' });
}

/** The variable that overrides an open circuit breaker. */
export const CIRCUIT_RESET_ENV = 'DBBACKUP_CIRCUIT_BREAKER';

function parseCircuitBreaker(value: string): 'reset' {
  if (value === 'reset') return value;
  throw new PermanentError(`${CIRCUIT_RESET_ENV} must be 'reset' (or unset); got '${value}'`, { code: 'INVALID_INPUT' });
}

/**
 * An absolute spool: a relative one would land somewhere else for each process that resolves it
 * (the CLI, the agents it starts, an agent SSM starts in its own working directory), and a resumed
 * run would not find what the killed one left.
 */
function parseSpoolDir(value: string): string {
  const problem = hostPathProblem(value);
  if (problem) throw new PermanentError(`DBBACKUP_SPOOL_DIR ${problem}`, { code: 'INVALID_INPUT' });
  return value;
}

function parseRestoreRoots(value: string | undefined): string[] {
  const roots = (value ?? '').split(':').filter((root) => root.trim() !== '');
  for (const root of roots) {
    const problem = hostPathProblem(root);
    if (problem) throw new PermanentError(`${RESTORE_ROOTS_ENV}: every root ${problem}`, { code: 'INVALID_INPUT' });
  }
  return roots;
}

function parsePlatform(value: string): Platform {
  if ((PLATFORMS as readonly string[]).includes(value)) return value as Platform;
  throw new PermanentError(`${PLATFORM_ENV} must be one of ${PLATFORMS.join(', ')} (or unset); got '${value}'`, { code: 'INVALID_INPUT' });
}

function parseAttempts(value: string): number {
  const attempts = Number(value);
  if (Number.isInteger(attempts) && attempts >= 1) return attempts;
  throw new PermanentError(`DBBACKUP_RETRY_ATTEMPTS must be a whole number ≥ 1; got '${value}'`, { code: 'INVALID_INPUT' });
}
