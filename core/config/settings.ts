/**
 * The one place that reads environment variables. Everything else receives these settings.
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | DBBACKUP_STORE | store URL: a path, `file:///abs`, or `s3://bucket/prefix` | `./backups` |
 * | DBBACKUP_SPOOL_DIR | host-local spool for snapshots and downloads | `<tmp>/dbbackup-spool` |
 * | DBBACKUP_LOG_LEVEL | debug, info, warn, error | `warn` for the CLI |
 * | DBBACKUP_RETRY_ATTEMPTS | local runs: attempts per step on TransientError (the state machines' policy otherwise) | the policy's |
 * | DBBACKUP_HOST_RUNNER | where host steps run locally: inline, local (child process), ssm | inline |
 * | AWS_ENDPOINT_URL(_S3), AWS_REGION, DBBACKUP_S3_FORCE_PATH_STYLE | S3 endpoint (s3rver, LocalStack, AWS) | AWS defaults |
 * | DBBACKUP_PLUGIN_PATH, DBBACKUP_PLUGIN_PINS, DBBACKUP_ALLOW_UNPINNED_PLUGINS | external driver plugins | none |
 * | DBBACKUP_RUN_ORCHESTRATOR | set by the local host runner for its agents: `pid:startTime` of the CLI orchestrating the run | none |
 */
import os from 'node:os';
import path from 'node:path';
import { parseIdentity, type ProcessIdentity } from '../host/process-identity';

/** The variable the local host runner passes its agents: who orchestrates their run. */
export const RUN_ORCHESTRATOR_ENV = 'DBBACKUP_RUN_ORCHESTRATOR';

export interface Settings {
  storeUrl: string;
  spoolRoot: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Overrides the state machines' TransientError attempts in local runs; undefined = the shipped policy. */
  retryAttempts?: number;
  /**
   * The process on this host that orchestrates the runs whose steps this process runs, when it
   * lives as long as those runs (the CLI); absent when they are orchestrated elsewhere (Step Functions).
   */
  orchestrator?: ProcessIdentity;
  env: NodeJS.ProcessEnv;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const level = env.DBBACKUP_LOG_LEVEL;
  return {
    storeUrl: env.DBBACKUP_STORE || './backups',
    spoolRoot: env.DBBACKUP_SPOOL_DIR || path.join(os.tmpdir(), 'dbbackup-spool'),
    logLevel: level === 'debug' || level === 'info' || level === 'error' ? level : 'warn',
    retryAttempts: env.DBBACKUP_RETRY_ATTEMPTS ? Math.max(1, Number(env.DBBACKUP_RETRY_ATTEMPTS) || 1) : undefined,
    orchestrator: parseIdentity(env[RUN_ORCHESTRATOR_ENV]),
    env,
  };
}
