/**
 * What every backup/restore step needs, passed in (never read from globals), so the same step
 * functions serve the Lambda handlers, the host agent and the CLI.
 */
import { PermanentError, TransientError, classify, type ClassifiedError, type ErrorMapper } from '../errors';
import { formatIssues } from '../config/issues';
import type { Logger } from '../logger';
import type { BlobStore } from '../store/blob-store';
import type { DriverRegistry } from '../driver/registry';
import type { ProcessIdentity } from '../host/process-identity';
import type { KMSClient } from '@aws-sdk/client-kms';

export interface StepDeps {
  registry: DriverRegistry;
  store: BlobStore;
  logger: Logger;
  /** Host-local directory under which per-backup/per-restore spool directories are created. */
  spoolRoot: string;
  /**
   * The process orchestrating the runs these steps belong to, when it is on this host and lives as
   * long as they do (a CLI); absent when they are orchestrated elsewhere. Decides when a run's
   * host-local files are leftovers (core/runs/run-holder.ts).
   */
  orchestrator?: ProcessIdentity;
  /** Replaces `{ "$secret": ref }` values with the secrets they name. */
  resolveSecrets: (value: unknown) => Promise<unknown>;
  /**
   * Replaces `{ "$secret": ref }` values with a stand-in, reading none (a reference this process
   * would refuse is refused all the same): for a target a step only parses, whose secrets the host
   * steps that restore into it read — so those steps' functions need no access to secrets.
   */
  standInSecrets: (value: unknown) => Promise<unknown>;
  /** This process's KMS client (made on first use), for encrypted backups' data keys; absent: none here. */
  kms?: () => KMSClient;
  /** Directories inside which a forced restore may replace data on this host (core/host/restore-roots.ts); none when absent. */
  restoreRoots?: readonly string[];
  /** Servers on which a forced restore may replace databases (core/host/restore-roots.ts); none when absent. */
  restoreServers?: readonly string[];
  /**
   * Every restore writes only into {@link restoreServers} and inside {@link restoreRoots}, forced
   * or not (a scratch target a drill started aside): where requests come from the console
   * (platform `aws`, platform.ts; core/host/restore-roots.ts).
   */
  confineRestores?: boolean;
  /** Masks the secrets this process resolved in a text (core/config/resolved-secrets.ts); errors leave steps masked. */
  maskSecrets?: (text: string) => string;
  /**
   * Runs `fn` through the circuit breaker of `target`: the endpoint a step connects to
   * (`DriverRegistry.backupBreakerTarget`, `restoreBreakerTarget`). Optional: no breaker when absent.
   */
  guard?: <T>(target: string, fn: () => Promise<T>) => Promise<T>;
  /** Transfer progress, for progress bars. */
  onProgress?: (phase: string, transferredBytes: number, totalBytes: number | undefined) => void;
}

/**
 * Runs `fn` of `engine` through the target's breaker when one is configured; its errors reach the
 * breaker classified by the engine's own mapper (a client's "no host answers" is an outage).
 */
export function guarded<T>(deps: StepDeps, engine: string, target: string, fn: () => Promise<T>): Promise<T> {
  const classified = () => fn().catch((error: unknown) => { throw classify(error, engineErrorMapper(deps, engine), engine); });
  return deps.guard ? deps.guard(target, classified) : classified();
}

/** The error mapper of `engine`'s plugin, if it is registered and has one. */
function engineErrorMapper(deps: StepDeps, engine: string | undefined): ErrorMapper | undefined {
  return engine && deps.registry.has(engine) ? deps.registry.get(engine).mapError : undefined;
}

interface SafeParser<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

/** Parses step input, naming the problem in a PermanentError `INVALID_INPUT`. */
export function parseInput<T>(schema: SafeParser<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new PermanentError(`invalid ${what}: ${formatIssues(parsed.error)}`, { code: 'INVALID_INPUT' });
  return parsed.data;
}

/**
 * Runs a step body so that whatever it throws leaves as TransientError/PermanentError
 * (engine-mapped), its message free of the secrets this process resolved.
 */
export async function runStep<T>(engine: string | undefined, deps: StepDeps, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw masked(classify(error, engineErrorMapper(deps, engine), engine), deps.maskSecrets);
  }
}

function masked(error: ClassifiedError, mask: StepDeps['maskSecrets']): ClassifiedError {
  const message = mask ? mask(error.message) : error.message;
  if (message === error.message) return error;
  const Class = error instanceof TransientError ? TransientError : PermanentError;
  return new Class(message, { code: error.code, engine: error.engine, cause: error });
}
