/**
 * The runtime a Lambda container uses, built once from the function's environment on first
 * invocation and reused while the container is warm.
 */
import { settingsFromEnv } from '../../core/config/settings';
import { createRuntime, type Runtime } from '../../core/config/runtime';
import { builtinPlugins } from '../../drivers';
import { platformOf } from '../../core/config/platform';
import { hostRunnerFromSettings, hostRunnerKindFromEnv } from '../../core/host-runner/open-host-runner';
import type { HostRunner } from '../../core/host-runner/host-runner';
import type { PollSchedule } from '../../core/host-runner/poll-schedule';
import { serviceLogger } from './observability';

export interface HandlerRuntime {
  runtime: Runtime;
  hostRunner: HostRunner;
  /** Seconds a host step may run before it is cancelled. */
  hostStepTimeoutSeconds: number;
  /** How long to wait between polls of a host step. @default POLL_SCHEDULE */
  pollSchedule?: PollSchedule;
}

export type RuntimeProvider = () => Promise<HandlerRuntime>;

let cached: Promise<HandlerRuntime> | undefined;

/** Lazily builds the runtime from `process.env` (the only env read in the functions). */
export const lambdaRuntime: RuntimeProvider = () => {
  cached ??= (async function buildLambdaRuntime() {
    const env = process.env;
    const settings = settingsFromEnv(env);
    const runtime = await createRuntime({ ...settings, platform: platformOf(settings, 'lambda') }, serviceLogger, { builtins: builtinPlugins() });
    const hostRunner = hostRunnerFromSettings({ ...hostRunnerKindFromEnv(env), deps: runtime.deps, store: runtime.store });
    return { runtime, hostRunner, hostStepTimeoutSeconds: Number(env.DBBACKUP_HOST_STEP_TIMEOUT_SECONDS) || 6 * 3600 };
  })();
  return cached;
};
