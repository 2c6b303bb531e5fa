/**
 * The restore, one stateless step at a time: fetch + verify manifest → prepare target → restore →
 * validate restore → report. Same conventions as the backup steps.
 */
import { PermanentError } from '../errors';
import { Catalog } from '../catalog/catalog';
import { newBackupId } from '../catalog/layout';
import type { RestoreContext } from '../driver/types';
import { enterRunDir } from '../runs/enter-run-dir';
import { assertForcedRestoreAllowed } from '../host/restore-roots';
import { releaseRunDir } from '../runs/run-dir';
import { restoreRunDir } from '../runs/spool-layout';
import { guarded, parseInput, runStep, type StepDeps } from '../steps/step-deps';
import { restoreRequestSchema, restoreStateSchema, type RestoreState, type RestoreSummary } from './restore-state';

/**
 * The step's context. The steps that keep files on the host (prepare, restore) first claim the
 * restore's run directory there (reclaiming the leftovers of dead runs): one restore is one attempt.
 */
async function context(state: RestoreState, deps: StepDeps, keepsFiles: boolean): Promise<RestoreContext> {
  const target = deps.registry.parseRestoreTarget(state.backup.engine, await deps.resolveSecrets(state.target));
  const driver = deps.registry.restoreDriver(state.backup.engine);
  await assertForcedRestoreAllowed({ engine: state.backup.engine, force: state.force, replacedPaths: driver.replacedPaths?.(target), roots: deps.restoreRoots ?? [] });
  const dir = restoreRunDir(deps.spoolRoot, state.restoreId);
  const spoolDir = keepsFiles
    ? await enterRunDir({
      dir, kind: 'restore', id: state.restoreId, engine: state.backup.engine, instance: state.backup.instance,
      runId: state.restoreId, runStartedAt: state.startedAt,
    }, deps)
    : dir;
  return {
    backupId: state.backup.backupId,
    instance: state.backup.instance,
    logger: deps.logger,
    backup: state.backup,
    target,
    spoolDir,
    force: state.force,
    restoreId: state.restoreId,
  };
}

/**
 * Resolves the backup (`latest` = newest verified), reads its manifest, and checks every artifact is
 * in the store at its recorded size. Contents are re-hashed as they are downloaded, before anything
 * is applied to the target.
 */
export async function fetchRestoreManifest(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<RestoreState> {
  const request = parseInput(restoreRequestSchema, input, 'restore request');
  return runStep(request.engine, deps, async () => {
    if (request.backupId === 'latest' && !(request.engine && request.instance)) {
      throw new PermanentError('restoring `latest` needs engine and instance', { code: 'INVALID_INPUT' });
    }
    const entry = await new Catalog(deps.store).get(request.backupId, { engine: request.engine, instance: request.instance });
    const { manifest } = entry;
    if (request.engine && request.engine !== manifest.engine) {
      throw new PermanentError(`backup ${manifest.backupId} is a ${manifest.engine} backup, not ${request.engine}`, { code: 'ENGINE_MISMATCH' });
    }
    deps.registry.restoreDriver(manifest.engine);
    deps.registry.parseRestoreTarget(manifest.engine, await deps.resolveSecrets(request.target));
    for (const artifact of manifest.artifacts) {
      const info = await deps.store.head(artifact.key);
      if (!info || info.size !== artifact.size) {
        throw new PermanentError(`backup ${manifest.backupId} is damaged: ${artifact.key} is ${info ? `${info.size} bytes, expected ${artifact.size}` : 'missing'}`, { code: 'ARTIFACT_MISSING' });
      }
    }
    const restoreId = newBackupId(now);
    return {
      ...request,
      restoreId,
      startedAt: now.toISOString(),
      manifestKey: `${entry.prefix}/manifest.json`,
      backup: {
        backupId: manifest.backupId,
        engine: manifest.engine,
        instance: manifest.instance,
        consistency: manifest.consistency,
        facts: manifest.facts,
        artifacts: manifest.artifacts,
      },
    };
  });
}

/** Checks the target is empty (or `force`) and ready. Refuses a non-empty target with TARGET_NOT_EMPTY. */
export async function prepareRestoreTarget(input: unknown, deps: StepDeps): Promise<RestoreState> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  return runStep(state.backup.engine, deps, async () => {
    const prepared = await deps.registry.restoreDriver(state.backup.engine).prepareTarget(await context(state, deps, true));
    return { ...state, prepared };
  });
}

/** Downloads (sha256 re-checked) and applies the backup to the target. */
export async function restoreBackup(input: unknown, deps: StepDeps): Promise<RestoreState> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  return runStep(state.backup.engine, deps, async () => {
    if (!state.prepared) throw new PermanentError('restore target not prepared (run the prepare step first)', { code: 'STEP_ORDER' });
    const driver = deps.registry.restoreDriver(state.backup.engine);
    const ctx = await context(state, deps, true);
    const prepared = state.prepared;
    const result = await guarded(deps, deps.registry.restoreBreakerTarget(state.backup.engine, state.backup.instance, ctx.target), () => driver.restore(ctx, prepared, {
      store: deps.store,
      prefix: '',
      rateLimit: state.rateLimit,
      onProgress: (done, total) => deps.onProgress?.('download', done, total),
    }));
    await releaseRunDir(restoreRunDir(deps.spoolRoot, state.restoreId), state.restoreId);
    return { ...state, result };
  });
}

/** Proves the restore: the driver compares the restored database with the manifest's facts. */
export async function validateRestoredBackup(input: unknown, deps: StepDeps): Promise<RestoreState> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  return runStep(state.backup.engine, deps, async () => {
    if (!state.result) throw new PermanentError('nothing restored yet (run the restore step first)', { code: 'STEP_ORDER' });
    const validation = await deps.registry.restoreDriver(state.backup.engine).validateRestore(await context(state, deps, false), state.result);
    return { ...state, validation };
  });
}

/** Summarises the restore. A failed validation is a PermanentError RESTORE_INVALID naming the failed checks. */
export async function reportRestore(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<RestoreSummary> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  return runStep(state.backup.engine, deps, async () => {
    if (!state.result || !state.validation) {
      throw new PermanentError('restore not validated yet (run the validate step first)', { code: 'STEP_ORDER' });
    }
    const summary: RestoreSummary = {
      restoreId: state.restoreId,
      backupId: state.backup.backupId,
      engine: state.backup.engine,
      instance: state.backup.instance,
      endpoint: state.result.endpoint,
      bytes: state.result.bytes,
      restoreDurationMs: state.result.durationMs,
      totalDurationMs: now.getTime() - Date.parse(state.startedAt),
      validation: state.validation,
    };
    deps.logger.info('restore finished', { ...summary });
    if (!state.validation.ok) {
      const failed = state.validation.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
      throw new PermanentError(`restore of ${state.backup.backupId} failed validation: ${failed.join('; ')}`, { code: 'RESTORE_INVALID', engine: state.backup.engine });
    }
    return summary;
  });
}
