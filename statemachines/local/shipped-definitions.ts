/**
 * The definitions local runs execute: the ASL the build synthesized from the CDK constructs the
 * stack deploys (`dist/state-machines.json`, written by scripts/build.ts), so running them needs
 * neither CDK nor a synth at run time.
 */
import { readFileSync } from 'node:fs';
import { PermanentError } from '../../core/errors';
import { builtFile } from '../../core/host/package-root';
import { MIN_HOST_STEP_SECONDS } from '../../core/steps/run-deadline';
import { listStates, type AslDefinition, type SynthesizedDefinitions } from '../asl';
import { settleHostWork } from '../budget/host-work';

/** The error name the Retry rules for transient failures match (statemachines/retry-policy.ts). */
const TRANSIENT_ERROR = 'TransientError';

/**
 * The definitions the build shipped.
 * @throws PermanentError `INSTALL_BROKEN` when the file is missing or not both definitions
 */
export function shippedDefinitions(file: string = builtFile('definitions')): SynthesizedDefinitions {
  let parsed: Partial<SynthesizedDefinitions>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<SynthesizedDefinitions>;
  } catch (error) {
    throw new PermanentError(`cannot read the state machine definitions at ${file} (run npm run build): ${(error as Error).message}`, { code: 'INSTALL_BROKEN' });
  }
  if (!isDefinition(parsed.backup) || !isDefinition(parsed.restore)) {
    throw new PermanentError(`${file} does not hold the backup and restore definitions (run npm run build)`, { code: 'INSTALL_BROKEN' });
  }
  return { backup: parsed.backup, restore: parsed.restore };
}

/**
 * `definitions` with every Retry rule for `TransientError` allowing `attempts` attempts in all
 * (`MaxAttempts` = attempts − 1): what synthesizing with `retry.transient.maxAttempts` gives, the
 * run's time for host work settled again for those retries (statemachines/budget/host-work.ts).
 * @throws PermanentError `INVALID_INPUT` when the retries' worst case leaves no time for host work.
 */
export function withTransientAttempts(definitions: SynthesizedDefinitions, attempts: number): SynthesizedDefinitions {
  const copy = structuredClone(definitions) as { backup: AslDefinition; restore: AslDefinition };
  for (const definition of [copy.backup, copy.restore]) {
    for (const { state } of listStates(definition)) {
      for (const rule of (state.Retry as Array<{ ErrorEquals: string[]; MaxAttempts?: number }> | undefined) ?? []) {
        if (rule.ErrorEquals.includes(TRANSIENT_ERROR)) rule.MaxAttempts = attempts - 1;
      }
    }
    if (settleHostWork(definition) < MIN_HOST_STEP_SECONDS) {
      throw new PermanentError(
        `${attempts} attempts per transient failure leave no time for host work: at their worst, the steps after it alone outlast the ${Number(definition.TimeoutSeconds) / 3600} h execution timeout; allow fewer attempts (DBBACKUP_RETRY_ATTEMPTS)`,
        { code: 'INVALID_INPUT' },
      );
    }
  }
  return copy;
}

function isDefinition(value: unknown): value is AslDefinition {
  const candidate = value as Partial<AslDefinition> | undefined;
  return typeof candidate?.StartAt === 'string' && typeof candidate.States === 'object' && candidate.States !== null;
}
