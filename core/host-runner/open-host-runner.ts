/**
 * Chooses and builds the {@link HostRunner} from settings. The environment is read only here, and
 * only from the `env` passed in:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | DBBACKUP_HOST_RUNNER | `inline` (in process), `local` (child process), `ssm` (SSM Run Command) | `inline` |
 * | DBBACKUP_AGENT_COMMAND | local: command line that runs the agent CLI | this copy's `bin/dbbackup.js` |
 * | DBBACKUP_SSM_DOCUMENT | ssm: name of the agent-step document the stack deployed (its output `AgentStepDocumentName`) | none (required) |
 * | DBBACKUP_SSM_OUTPUT_BUCKET | ssm: S3 bucket for the full stdout/stderr of SSM commands | none |
 *
 * The SSM client's region comes from core/aws/region.ts.
 * | DBBACKUP_HOST_RUNNER_DIR | directory of the local runner's command files | `<tmp>/dbbackup-host-runner` |
 */
import type { SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm';
import { awsRegionFromEnv } from '../aws/region';
import { PermanentError } from '../errors';
import type { BlobStore } from '../store/blob-store';
import type { StepDeps } from '../steps/step-deps';
import type { HostRunner } from './host-runner';
import { InlineHostRunner } from './inline-runner';
import { LocalProcessHostRunner } from './local-process-runner';
import { SsmHostRunner } from './ssm-runner';

/** The host runner implementations. */
export const HOST_RUNNER_KINDS = ['inline', 'local', 'ssm'] as const;

export type HostRunnerKind = (typeof HOST_RUNNER_KINDS)[number];

/** What {@link hostRunnerKindFromEnv} reads. */
export interface HostRunnerEnvSettings {
  kind: HostRunnerKind;
  /** DBBACKUP_AGENT_COMMAND, when set. */
  agentCommand?: string;
  /** DBBACKUP_SSM_DOCUMENT, when set. */
  ssmDocument?: string;
  /** The AWS region of this process's clients (core/aws/region.ts), when one is set. */
  region?: string;
  /** DBBACKUP_SSM_OUTPUT_BUCKET, when set. */
  ssmOutputBucket?: string;
  /** DBBACKUP_HOST_RUNNER_DIR, when set. */
  localDirectory?: string;
}

/** Everything any runner may need; each kind uses its part. */
export interface HostRunnerSettings extends HostRunnerEnvSettings {
  /** inline: the dependencies the steps run with (required). */
  deps?: StepDeps;
  /**
   * The store the agents use. ssm: results too large for SSM's stdout are read from it (the
   * document names the agents' store); local: its URL is passed to the agent as `--store`.
   */
  store?: BlobStore;
  /** local: overrides `store.url` as the agent's `--store`. */
  storeUrl?: string;
  /** ssm: key prefix for `ssmOutputBucket`. */
  ssmOutputKeyPrefix?: string;
  /** ssm: a ready client. */
  ssmClient?: SSMClient;
  /** ssm: client configuration (endpoint, credentials…); default: `region`. */
  ssmClientConfig?: SSMClientConfig;
  /** local: the agent process's environment. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads the host runner settings from `env`. Throws PermanentError `INVALID_CONFIG` for an unknown
 * DBBACKUP_HOST_RUNNER.
 */
export function hostRunnerKindFromEnv(env: NodeJS.ProcessEnv): HostRunnerEnvSettings {
  const raw = nonEmpty(env.DBBACKUP_HOST_RUNNER)?.toLowerCase() ?? 'inline';
  if (!isHostRunnerKind(raw)) {
    throw new PermanentError(`DBBACKUP_HOST_RUNNER must be one of ${HOST_RUNNER_KINDS.join(', ')}, got '${raw}'`, { code: 'INVALID_CONFIG' });
  }
  const agentCommand = nonEmpty(env.DBBACKUP_AGENT_COMMAND);
  const ssmDocument = nonEmpty(env.DBBACKUP_SSM_DOCUMENT);
  const region = awsRegionFromEnv(env);
  const ssmOutputBucket = nonEmpty(env.DBBACKUP_SSM_OUTPUT_BUCKET);
  const localDirectory = nonEmpty(env.DBBACKUP_HOST_RUNNER_DIR);
  return {
    kind: raw,
    ...(agentCommand ? { agentCommand } : {}),
    ...(ssmDocument ? { ssmDocument } : {}),
    ...(region ? { region } : {}),
    ...(ssmOutputBucket ? { ssmOutputBucket } : {}),
    ...(localDirectory ? { localDirectory } : {}),
  };
}

/** Builds the runner `settings.kind` names. Throws PermanentError `INVALID_CONFIG` when a required part is missing. */
export function hostRunnerFromSettings(settings: HostRunnerSettings): HostRunner {
  const storeUrl = settings.storeUrl ?? settings.store?.url;
  switch (settings.kind) {
    case 'inline':
      if (!settings.deps) throw new PermanentError('the inline host runner needs the step dependencies (deps)', { code: 'INVALID_CONFIG' });
      return new InlineHostRunner(settings.deps);
    case 'local':
      return new LocalProcessHostRunner({
        directory: settings.localDirectory,
        agentCommand: settings.agentCommand ? shellCommandArgv(settings.agentCommand) : undefined,
        storeUrl,
        env: settings.env,
        orchestrator: settings.deps?.orchestrator,
      });
    case 'ssm':
      return new SsmHostRunner({
        client: settings.ssmClient,
        clientConfig: settings.ssmClientConfig ?? (settings.region ? { region: settings.region } : {}),
        documentName: settings.ssmDocument ?? '',
        resultStore: settings.store,
        outputS3BucketName: settings.ssmOutputBucket,
        outputS3KeyPrefix: settings.ssmOutputKeyPrefix,
      });
    default:
      throw new PermanentError(`unknown host runner kind '${String((settings as { kind?: unknown }).kind)}'`, { code: 'INVALID_CONFIG' });
  }
}

function isHostRunnerKind(value: string): value is HostRunnerKind {
  return (HOST_RUNNER_KINDS as readonly string[]).includes(value);
}

/** A shell command line as an argv prefix: `sh -c '<line> "$@"' dbbackup-agent <args...>`. */
function shellCommandArgv(commandLine: string): string[] {
  return ['sh', '-c', `${commandLine} "$@"`, 'dbbackup-agent'];
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
