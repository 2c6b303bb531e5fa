/**
 * Where a process runs, decided in this one place, and what follows from it for what the process
 * trusts. In AWS (the Lambda functions, and the host agent when Step Functions orchestrates the run
 * through SSM) the step input comes from whoever may start an execution in the console, so a secret
 * reference may only name SSM Parameter Store or Secrets Manager: an `env:` or `file:` reference
 * would read the function's or the host's environment and files. Locally (the CLI and the agents
 * it runs) the input is the user's own, and every scheme is resolved.
 *
 * The rule, in order:
 * 1. `DBBACKUP_PLATFORM=aws|local`, when set (the stack sets `aws` on every function);
 * 2. a Lambda function: `aws`;
 * 3. a host agent: `local` when a CLI on this host orchestrates its run (the local host runner
 *    names it in `DBBACKUP_RUN_ORCHESTRATOR`), otherwise `aws` — an agent nobody local started
 *    runs a step of an execution, so it fails closed;
 * 4. the CLI: `local`.
 */
import type { SecretScheme } from '../secrets';
import type { Settings } from './settings';

export const PLATFORMS = ['aws', 'local'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The variable that says where a process runs. */
export const PLATFORM_ENV = 'DBBACKUP_PLATFORM';

/** What a process is: the CLI, a host agent (`dbbackup agent`), or a Lambda step function. */
export type ProcessRole = 'cli' | 'agent' | 'lambda';

/**
 * The platform of a process in `role` with `settings` (see the module comment).
 *
 * @example
 * ```ts
 * platformOf(settingsFromEnv(process.env), 'agent'); // 'aws' unless a local CLI runs this agent
 * ```
 */
export function platformOf(settings: Pick<Settings, 'platform' | 'orchestrator'>, role: ProcessRole): Platform {
  if (settings.platform) return settings.platform;
  if (role === 'lambda') return 'aws';
  if (role === 'agent') return settings.orchestrator ? 'local' : 'aws';
  return 'local';
}

/** The secret reference schemes a process on `platform` resolves. */
export function secretSchemesOn(platform: Platform): readonly SecretScheme[] {
  return platform === 'aws' ? ['ssm', 'secretsmanager'] : ['env', 'file', 'ssm', 'secretsmanager'];
}
