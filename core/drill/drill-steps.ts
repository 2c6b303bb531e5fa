/**
 * A restore drill, as steps of the restore state machine (a restore request with `drill`):
 *
 *     Fetch manifest → Start scratch target (on the request's host; only when no target is given)
 *       → the restore's own steps, validation included → Report → Record drill
 *     after a failure: Cleanup after failure → Record failed drill → Restore failed
 *
 * Record drill writes the outcome next to the backup's manifest (drill.json), good or bad, and its
 * handler then tears the scratch target down on its host. The backup itself is only read: a failed
 * drill records why and leaves it as it was. `dbbackup drill` runs the same state machine in process.
 */
import { z } from 'zod';
import { Catalog } from '../catalog/catalog';
import { writeDrill, type DrillRecord } from '../catalog/drill-record';
import { assertBackupId, backupPrefix, manifestKey } from '../catalog/layout';
import { contentDigest, parseManifest } from '../catalog/manifest';
import { PermanentError, TransientError, classify, fromNameAndMessage, messageWithCode } from '../errors';
import { restoreRecordKey } from '../restore/restore-records';
import { restoreStateSchema, type RestoreReport, type RestoreState } from '../restore/restore-state';
import { targetNodes } from '../restore/restore-steps';
import { enterRunDir } from '../runs/enter-run-dir';
import { drillRunDir } from '../runs/spool-layout';
import { readJson } from '../store/json';
import { parseInput, runStep, type StepDeps } from '../steps/step-deps';
import { tearDownScratch, type ScratchTarget } from './scratch-target';

/** What the start step reports: the scratch target, as the driver made it. */
export const scratchTargetSchema = z.strictObject({ target: z.record(z.string(), z.unknown()), description: z.string().min(1) });

/** The drill's target when it was given, not started: for the record. */
const GIVEN_TARGET = 'the drill target given';

/**
 * Host step (`drill-start`), on the request's host: starts the driver's scratch target for the
 * backup in the restore's drill directory, after tearing down whatever an earlier attempt left there.
 * @throws PermanentError `DRILL_TARGET_UNAVAILABLE` when the driver has no scratch target or it
 *   would not start (nothing of it is left running); TransientError as the start threw it.
 */
export async function startScratchTarget(input: unknown, deps: StepDeps): Promise<ScratchTarget> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  const { engine, instance } = state.backup;
  return runStep(engine, deps, async () => {
    if (!state.drill || state.target) throw new PermanentError('only a drill without a target starts a scratch target', { code: 'INVALID_INPUT' });
    const scratch = deps.registry.restoreDriver(engine).scratch;
    if (!scratch) {
      throw new PermanentError(`the ${engine} driver cannot start a scratch target: give the drill of ${engine}/${instance} a target`, { code: 'DRILL_TARGET_UNAVAILABLE', engine });
    }
    const dir = scratchDir(state.restoreId, deps);
    await tearDownScratch(dir);
    // Owned by the drill's orchestrator (a CLI) and this step: once both are gone, the next run on
    // this host tears down what a drill interrupted before its teardown left (runs/leftovers.ts).
    await enterRunDir({ dir, kind: 'drill', id: state.restoreId, engine, instance, runId: state.restoreId, runStartedAt: state.startedAt }, deps);
    const key = manifestKey(backupPrefix(engine, instance, state.backup.backupId));
    const manifest = parseManifest(await readJson(deps.store, key), key);
    try {
      const started = await scratch.start(dir, manifest, deps.logger);
      deps.logger.info('drill: scratch target started', { restoreId: state.restoreId, engine, target: started.description });
      return started;
    } catch (error) {
      await tearDownScratch(dir).catch(() => undefined);
      const classified = classify(error, undefined, engine);
      if (classified instanceof TransientError) throw classified;
      throw new PermanentError(`no scratch target to drill ${engine}/${instance} into: ${classified.message}`, { code: 'DRILL_TARGET_UNAVAILABLE', engine, cause: error });
    }
  });
}

/**
 * The state once the scratch target runs (the start step's handler, trusted side): the target with
 * the drill's `targetSettings`, and the nodes planned on it. Every node must be on the request's
 * host — the drill host's answer cannot send the restore anywhere else.
 */
export async function withScratchTarget(state: RestoreState, started: ScratchTarget, deps: StepDeps): Promise<RestoreState> {
  const engine = state.backup.engine;
  const { target: scratch, description } = parseInput(scratchTargetSchema, started, 'scratch target');
  const target = { ...scratch, ...state.drill?.targetSettings };
  const nodes = targetNodes(engine, deps.registry.parseRestoreTarget(engine, await deps.standInSecrets(target)), state.host, deps);
  const elsewhere = nodes.find((node) => node.host !== state.host);
  if (elsewhere) {
    throw new PermanentError(`the scratch target puts node ${elsewhere.name} on ${elsewhere.host ?? 'no host'}, not on the drill's host ${state.host ?? '(this host)'}`, { code: 'INVALID_TARGET', engine });
  }
  return { ...state, target, nodes, drill: { ...state.drill, scratch: description } };
}

/** Host step (`drill-teardown`): stops everything the restore's scratch target runs and removes it. */
export async function tearDownScratchTarget(input: unknown, deps: StepDeps): Promise<{ stopped: number }> {
  const { restoreId } = parseInput(z.object({ restoreId: z.string() }), input, 'drill teardown input');
  return runStep(undefined, deps, async () => {
    const torn = await tearDownScratch(scratchDir(restoreId, deps));
    deps.logger.info('drill: scratch target torn down', { restoreId, ...torn });
    return torn;
  });
}

function scratchDir(restoreId: string, deps: StepDeps): string {
  assertBackupId(restoreId); // a restore id is made like a backup id: nothing in it climbs out of the spool
  return drillRunDir(deps.spoolRoot, restoreId);
}

/**
 * Failures that say nothing about the backup: the request was refused, or the target was not one
 * to drill into (none could be started; the one given holds data, lies outside the restore roots,
 * or runs a server the restore did not start), or the drill was not given what opens an encrypted
 * backup (no key, another key, a secret it cannot resolve). They fail the run, but leave the
 * backup's record as it was — a good drill of it stays good.
 */
const NOT_THE_BACKUPS_FAULT = new Set([
  'INVALID_INPUT', 'INVALID_TARGET', 'DRILL_TARGET_UNAVAILABLE', 'BACKUP_NOT_FOUND', 'ENGINE_MISMATCH', 'INVALID_BACKUP_ID',
  'TARGET_NOT_EMPTY', 'RESTORE_ROOT_REFUSED', 'SERVER_NOT_STARTED_BY_RESTORE', 'TARGET_IN_USE', 'TARGET_PORT_IN_USE', 'RESTORE_UNPROVEN',
  'KEY_UNAVAILABLE', 'KEY_MISMATCH', 'INVALID_KEY', 'SECRET_UNRESOLVED', 'SECRET_REF_REFUSED',
]);

/** Codes of a backup that is not there to record a drill beside. */
const NO_BACKUP = new Set(['BACKUP_NOT_FOUND', 'BACKUP_DAMAGED', 'BACKUP_AMBIGUOUS', 'INVALID_BACKUP_ID', 'INVALID_NAME']);

/** A restore state as the drill's record step may get it: after the report, or on the failure path with `error`. */
const drilledStateSchema = z.looseObject({
  backupId: z.string(),
  engine: z.string().optional(),
  instance: z.string().optional(),
  drill: z.object({ scratch: z.string().optional() }).loose(),
  restoreId: z.string().optional(),
  startedAt: z.string().optional(),
  backup: z.object({ backupId: z.string(), engine: z.string(), instance: z.string() }).optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).loose().optional(),
});

/**
 * Records the drill next to the backup's manifest: restore-verified when the restore reported a
 * good validation, restore failed with the reason otherwise (the error the restore failed with,
 * or the failed checks). Resolves with what it wrote; undefined when there is no backup to write it
 * beside, or the failure was not the backup's (NOT_THE_BACKUPS_FAULT: nothing was tried).
 * A restore its validation could not prove (`RESTORE_UNPROVEN`: only checks that could not look
 * failed, the drill's target settings lacking what they need) records nothing either.
 */
export async function recordDrill(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<DrillRecord | undefined> {
  const state = parseInput(drilledStateSchema, input, 'drill state');
  const engine = state.backup?.engine ?? state.engine;
  const instance = state.backup?.instance ?? state.instance;
  return runStep(engine, deps, async () => {
    const error = state.error && fromNameAndMessage(state.error.Error, state.error.Cause ?? state.error.Error);
    if (error && NOT_THE_BACKUPS_FAULT.has(error.code)) return undefined;
    const entry = await new Catalog(deps.store).get(state.backup?.backupId ?? state.backupId, { engine, instance }).catch((failure: unknown) => {
      // No backup (or none readable) to record it beside; anything else (the store out of reach) is retried.
      if (NO_BACKUP.has((failure as { code?: string }).code ?? '')) return undefined;
      throw failure;
    });
    if (!entry) return undefined;
    const restored = state.restoreId && state.backup ? { restoreId: state.restoreId, backup: state.backup } : undefined;
    const report = restored ? await readJson<RestoreReport>(deps.store, restoreRecordKey(restored, 'report')) : undefined;
    const failure = error ? messageWithCode(error) : undefined;
    const ok = failure === undefined && report?.validation.ok === true;
    const drilledAt = state.startedAt ?? now.toISOString();
    const record: DrillRecord = {
      backupId: entry.backupId,
      drilledAt,
      ok,
      ...(restored ? { restoreId: restored.restoreId } : {}),
      restoreDurationMs: report?.restoreDurationMs ?? 0,
      drillDurationMs: Math.max(0, now.getTime() - Date.parse(drilledAt)),
      bytes: report?.bytes ?? 0,
      bytesPerSecond: report ? Math.round(report.bytes / Math.max(report.restoreDurationMs / 1000, 0.001)) : 0,
      checks: report?.validation.checks ?? [],
      ...(ok ? {} : { reason: failure ?? 'the restore did not validate' }),
      target: state.drill.scratch ?? GIVEN_TARGET,
      manifestSha256: contentDigest(entry.manifest),
    };
    await writeDrill(deps.store, entry.prefix, record);
    deps.logger.info('drill recorded', { backupId: record.backupId, engine, instance, ok, reason: record.reason });
    return record;
  });
}

/** What the record step hands on: the outcome without the checks (the record in the store has them). */
export function drillOutcome(record: DrillRecord | undefined): Omit<DrillRecord, 'checks'> & { checks: number } | { recorded: false } {
  if (!record) return { recorded: false };
  const { checks, ...rest } = record;
  return { ...rest, checks: checks.length };
}

/**
 * Whether `state` is a drill that may have started a scratch target on its host: one that got as
 * far as a restore id. Its drill directory is torn down whatever happened after — also when the
 * start step's answer was refused, and so never reached the state — and is simply not there when
 * the drill had a target of its own.
 */
export function mayHaveScratch(state: unknown): state is { restoreId: string; host?: string } {
  const s = state as { drill?: unknown; restoreId?: unknown } | undefined;
  return s?.drill !== undefined && typeof s.restoreId === 'string';
}

