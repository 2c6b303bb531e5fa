/**
 * The restore, one stateless step at a time: fetch + verify manifest → on every node (host) of the
 * target: prepare → stage → apply → start → validate (once) → report. Same conventions as the
 * backup steps: what grows with the database goes to the store (restore-records.ts), the state
 * carries its key; the node steps take `{ restore, node }` and record what they did per node.
 */
import { keyOpener } from '../crypto/encoding-settings';
import { openDataKeys } from '../crypto/artifact-encoding';
import { PermanentError } from '../errors';
import { Catalog, isVerified, type LatestFilter } from '../catalog/catalog';
import { backupPrefix, manifestKey, newBackupId } from '../catalog/layout';
import { parseManifest, type BackupManifest } from '../catalog/manifest';
import { backupRecordOf, checkManifestRecords } from '../catalog/backup-record';
import { missingArtifacts, servesWhole, type MissingArtifacts } from '../catalog/missing-artifacts';
import { provenDamage } from '../catalog/verification';
import { DEFAULT_NODE } from '../driver/node-ref';
import type { BackupRecord, NodeRef, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationReport } from '../driver/types';
import { enterRunDir } from '../runs/enter-run-dir';
import { assertRestoreAllowed } from '../host/restore-roots';
import { releaseRunDir } from '../runs/run-dir';
import { restoreRunDir } from '../runs/spool-layout';
import { readJson } from '../store/json';
import { deadlineOf, splitRunInput } from '../steps/run-deadline';
import { guarded, parseInput, runStep, type StepDeps } from '../steps/step-deps';
import { failedChecksText, putStepRecord } from '../steps/step-records';
import { assertRequestFits } from '../steps/request-size';
import { mergedResult } from './node-results';
import {
  findNodeResult, readBackupList, readNodeResult, readPrepared, readResult, readStaged, readValidation, removeIntermediateRecords, restoreRecordKey,
  writeBackupList, writeNodeResult, writePrepared, writeResult, writeStaged, writeValidation,
} from './restore-records';
import { restoreBases } from './restore-bases';
import {
  MAX_RESTORE_NODES, restoreIdentity, restoreNodeInputSchema, restoreRequestSchema, restoreStateSchema,
  type RestoreNodeInput, type RestoreReport, type RestoreState, type RestoreSummary,
} from './restore-state';

/**
 * The step's context on `node`, with the backup from its manifest, and the later backups (`chain`)
 * and the backups it extends (`bases`) as fetch manifest recorded them. The steps that keep files on
 * the host (prepare, stage, apply, start) first claim the node's run directory there (reclaiming
 * the leftovers of dead runs): one restore is one attempt.
 */
export async function restoreContext(state: RestoreState, node: NodeRef, deps: StepDeps, keepsFiles: boolean): Promise<RestoreContext> {
  const target = deps.registry.parseRestoreTarget(state.backup.engine, await deps.resolveSecrets(state.target));
  const driver = deps.registry.restoreDriver(state.backup.engine);
  await assertRestoreAllowed(
    {
      engine: state.backup.engine, force: state.force, confined: deps.confineRestores === true && state.drill?.scratch === undefined,
      paths: driver.replacedPaths?.(target, node), servers: driver.replacedServers?.(target) ?? [],
    },
    { roots: deps.restoreRoots ?? [], servers: deps.restoreServers ?? [] },
  );
  const dir = restoreRunDir(deps.spoolRoot, state.restoreId, node.name);
  const spoolDir = keepsFiles
    ? await enterRunDir({
      dir, kind: 'restore', id: state.restoreId, node: node.name, engine: state.backup.engine, instance: state.backup.instance,
      runId: state.restoreId, runStartedAt: state.startedAt,
    }, deps)
    : dir;
  return {
    backupId: state.backup.backupId,
    instance: state.backup.instance,
    logger: deps.logger,
    backup: await backupRecord(state, deps),
    target,
    node,
    spoolDir,
    force: state.force,
    restoreId: state.restoreId,
    ...(state.rateLimit ? { rateLimit: state.rateLimit } : {}),
    chain: state.chain ? await readBackupList(deps.store, state, 'chain', state.chain.sha256) : [],
    bases: state.bases ? await readBackupList(deps.store, state, 'bases', state.bases.sha256) : [],
  };
}

/**
 * A node step's input, checked: the Map item `{ restore, node }`, whose node must be one the
 * restore works on (a host cannot be slipped in beside the state).
 */
export function parseNodeInput(input: unknown): RestoreNodeInput {
  const parsed = parseInput(restoreNodeInputSchema, input, 'restore node input');
  const listed = parsed.restore.nodes.find((n) => n.name === parsed.node.name);
  if (!listed || listed.host !== parsed.node.host) {
    throw new PermanentError(`node ${JSON.stringify(parsed.node)} is not one of this restore's (${parsed.restore.nodes.map((n) => n.name).join(', ')})`, { code: 'INVALID_INPUT' });
  }
  return parsed;
}

/** The nodes a restore of `target` works on, each on its host or the request's. */
export function targetNodes(engine: string, target: unknown, host: string | undefined, deps: StepDeps): NodeRef[] {
  const listed = deps.registry.restoreDriver(engine).targetNodes?.(target) ?? [{ name: DEFAULT_NODE }];
  if (listed.length === 0 || listed.length > MAX_RESTORE_NODES) {
    throw new PermanentError(`the target spreads the restore over ${listed.length} hosts; a restore works on 1 to ${MAX_RESTORE_NODES}`, { code: 'INVALID_TARGET', engine });
  }
  const nodes = listed.map((node) => ({ ...node, ...(node.host ?? host ? { host: node.host ?? host } : {}) }));
  // Members without a host run on the request's: naming that same host on other members would make two nodes of one machine.
  const hosts = nodes.map((node) => node.host ?? '(this host)');
  const twice = hosts.find((h, i) => hosts.indexOf(h) !== i);
  if (twice !== undefined) {
    throw new PermanentError(`the target puts members on ${twice} both by its host and as the restore's own host (${host}): give every member its host, or none`, { code: 'INVALID_TARGET', engine });
  }
  return nodes;
}

/**
 * Whether this restore reads later backups too: the `point-in-time` capability, and a target its
 * driver says replays them (`target`: the parsed target, or a scratch drill's settings alone).
 */
function readsChain(engine: string, target: object | undefined, deps: StepDeps): boolean {
  if (!deps.registry.get(engine).manifest.capabilities.includes('point-in-time')) return false;
  return deps.registry.restoreDriver(engine).readsLaterBackups?.(target) ?? true;
}

/**
 * For `latest`: why a backup cannot serve a restore to `target` — a restore of it would lack an
 * artifact ({@link missingArtifacts}), or its engine's driver says so ({@link RestoreDriver.passesOver}).
 */
function servesTarget(engine: string | undefined, target: object | undefined, deps: StepDeps, missing: MissingArtifacts): LatestFilter['serves'] {
  if (!engine || !deps.registry.has(engine)) return undefined;
  const driver = deps.registry.restoreDriver(engine);
  const whole = servesWhole(missing);
  return async (entry, listed) => await whole(entry, listed) ?? driver.passesOver?.(backupRecordOf(entry.manifest), target);
}

/**
 * The later verified backups of the backup's engine and instance (complete, validated, and not
 * failed by a re-verification), oldest first: what a point-in-time restore replays beyond it. One
 * whose record does not check is left out with a warning, never fatal to a restore of an earlier one.
 */
async function laterBackups(manifest: BackupManifest, deps: StepDeps): Promise<BackupRecord[]> {
  const entries = await new Catalog(deps.store).list({ engine: manifest.engine, instance: manifest.instance });
  const later: BackupRecord[] = [];
  for (const entry of entries.filter((e) => e.backupId > manifest.backupId && isVerified(e)).reverse()) {
    const m = entry.manifest!;
    try {
      checkManifestRecords(deps.registry, m, manifestKey(entry.prefix));
    } catch (error) {
      deps.logger.warn('a later backup left out of the restore\'s chain', { backupId: m.backupId, reason: (error as Error).message });
      continue;
    }
    later.push(backupRecordOf(m));
  }
  return later;
}

/** What the restore needs of the backup, read from its manifest (the state carries only its key). */
async function backupRecord(state: RestoreState, deps: StepDeps): Promise<BackupRecord> {
  const key = manifestKey(backupPrefix(state.backup.engine, state.backup.instance, state.backup.backupId));
  const value = await readJson(deps.store, key);
  if (value === undefined) throw new PermanentError(`the manifest of backup ${state.backup.backupId} is gone (${key})`, { code: 'BACKUP_NOT_FOUND' });
  const manifest = parseManifest(value, key);
  checkManifestRecords(deps.registry, manifest, key);
  return backupRecordOf(manifest);
}

/**
 * Resolves the backup (`latest` = newest verified), reads its manifest, and checks every artifact is
 * in the store at its recorded size; for an incremental backup, the same of every backup it rests
 * on (restore-bases.ts: CHAIN_BROKEN), recorded for the drivers. From a state machine the input is
 * `{ request, budget }`, and the state gets the run's `deadline`. Contents are re-hashed as they
 * are downloaded, before anything is applied to the target.
 */
export async function fetchRestoreManifest(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<RestoreState> {
  const { request: raw, budget } = splitRunInput(input);
  assertRequestFits(raw, 'restore request');
  const request = parseInput(restoreRequestSchema, raw, 'restore request');
  return runStep(request.engine, deps, async () => {
    if (request.backupId === 'latest' && !(request.engine && request.instance)) {
      throw new PermanentError('restoring `latest` needs engine and instance', { code: 'INVALID_INPUT' });
    }
    if (request.verified && request.backupId !== 'latest') {
      throw new PermanentError('`verified` picks among backups: it goes with `latest`, not with a backup id', { code: 'INVALID_INPUT' });
    }
    const given = request.target && { ...request.target, ...request.drill?.targetSettings };
    const missing = missingArtifacts(deps.store, deps.registry);
    const serves = servesTarget(request.engine, given ?? request.drill?.targetSettings, deps, missing);
    const entry = await new Catalog(deps.store).get(request.backupId, { engine: request.engine, instance: request.instance, restoreVerified: request.verified, restorable: !request.drill, ...(serves ? { serves } : {}) });
    const { manifest } = entry;
    if (entry.passedOver) deps.logger.info('restoring latest: newer backups passed over', { backupId: manifest.backupId, passedOver: entry.passedOver });
    if (request.engine && request.engine !== manifest.engine) {
      throw new PermanentError(`backup ${manifest.backupId} is a ${manifest.engine} backup, not ${request.engine}`, { code: 'ENGINE_MISMATCH' });
    }
    checkManifestRecords(deps.registry, manifest, manifestKey(entry.prefix));
    const lacks = await missing(manifest, entry.listed);
    if (lacks) throw new PermanentError(`backup ${manifest.backupId} is damaged: ${lacks.what} (found before the restore began: the target is untouched)`, { code: lacks.code });
    // `latest` never picks such a backup; one named by id would stop at the damaged artifact, its target left unfinished.
    const damage = entry.verification && provenDamage(entry.verification);
    if (damage) {
      throw new PermanentError(
        `backup ${manifest.backupId} is damaged: ${damage}; a restore of it would stop there: restore an older backup, or run \`dbbackup verify ${manifest.backupId}\` again once its artifacts are repaired (found before the restore began: the target is untouched)`,
        { code: 'BACKUP_DAMAGED' },
      );
    }
    // A drill without a target: its scratch target is started on the request's host (drill-steps.ts), which then plans the nodes.
    // Its secrets are not read here: the host steps that restore into it read them (with the host's own access).
    const target = given && deps.registry.parseRestoreTarget(manifest.engine, await deps.standInSecrets(given));
    const nodes = target
      ? targetNodes(manifest.engine, target, request.host, deps)
      : [{ name: DEFAULT_NODE, ...(request.host ? { host: request.host } : {}) }];
    const driver = deps.registry.restoreDriver(manifest.engine);
    const bases = await restoreBases(entry, deps);
    const restoreId = newBackupId(now);
    const at = { restoreId, backup: manifest };
    // A drill into a scratch target has only its settings yet (the target is made by its start step): they say whether it replays.
    const chain = readsChain(manifest.engine, target ?? request.drill?.targetSettings, deps)
      ? { sha256: await writeBackupList(deps.store, at, 'chain', await laterBackups(manifest, deps)) }
      : undefined;
    return {
      ...request,
      ...(given ? { target: given } : {}),
      restoreId,
      ...(chain ? { chain } : {}),
      ...(bases.length > 0 ? { bases: { sha256: await writeBackupList(deps.store, at, 'bases', bases) } } : {}),
      startedAt: now.toISOString(),
      ...deadlineOf(budget),
      manifestKey: manifestKey(entry.prefix),
      nodes,
      phases: { stage: driver.stage !== undefined, start: driver.start !== undefined },
      backup: {
        backupId: manifest.backupId,
        engine: manifest.engine,
        instance: manifest.instance,
        artifacts: manifest.artifacts.length,
        bytes: manifest.bytes,
        ...(entry.passedOver ? { passedOver: entry.passedOver } : {}),
      },
    };
  });
}

/** What a node step works with: the restore, the node's records' place (the state and its node), the driver. */
interface NodeStep {
  state: RestoreState;
  at: RestoreState & { node: NodeRef };
  driver: RestoreDriver;
  /** The step's context on the node, its run directory claimed. */
  context(): Promise<RestoreContext>;
  /** Runs `work` under the circuit breaker of the restore's target (what `ctx.target` connects to). */
  onTarget<T>(ctx: RestoreContext, work: () => Promise<T>): Promise<T>;
}

/**
 * One node step (a Map item): its input checked, `work` run by the step's rules, the item handed
 * back (the Map keeps only whether it failed: what the step did is in the node's records).
 */
async function nodeStep(input: unknown, deps: StepDeps, work: (step: NodeStep) => Promise<void>): Promise<RestoreNodeInput> {
  const item = parseNodeInput(input);
  const { restore: state, node } = item;
  await runStep(state.backup.engine, deps, () => work({
    state,
    at: { ...state, node },
    driver: deps.registry.restoreDriver(state.backup.engine),
    context: () => restoreContext(state, node, deps, true),
    onTarget: (ctx, run) => guarded(deps, state.backup.engine, deps.registry.restoreBreakerTarget(state.backup.engine, state.backup.instance, ctx.target), run),
  }).catch((error: unknown) => {
    throw state.drill ? asDrillsRefusal(error) : error;
  }));
  return item;
}

/**
 * A drill's `error`: a target refused as not empty says so as a drill would — the drivers' words
 * offer force, which a drill has not (it restores into an empty target only).
 */
function asDrillsRefusal(error: unknown): unknown {
  if (!(error instanceof PermanentError) || error.code !== 'TARGET_NOT_EMPTY') return error;
  return new PermanentError(`${error.message} — a drill never replaces a target (drill has no --force): give an empty one, or none for a scratch target`, { code: error.code, engine: error.engine, cause: error });
}

/** The driver's optional step `name`, or STEP_ORDER when it has none (the state machine skips it then). */
function optionalStep<K extends 'stage' | 'start'>(driver: RestoreDriver, name: K, engine: string): NonNullable<RestoreDriver[K]> {
  const step = driver[name];
  if (!step) throw new PermanentError(`the ${engine} driver has no ${name} step`, { code: 'STEP_ORDER' });
  return step.bind(driver) as NonNullable<RestoreDriver[K]>;
}

/** The transfer options of a node's downloads: the restore's rate limit and keys, progress reported. */
function transferOf(state: RestoreState, deps: StepDeps): TransferOptions {
  return {
    store: deps.store,
    prefix: '',
    rateLimit: state.rateLimit,
    openKey: keyOpener(state.keys, deps),
    onProgress: (done, total) => deps.onProgress?.('download', done, total),
  };
}

/** On one node: opens an encrypted backup's data keys, then checks the target is empty (or `force`) and ready. Refuses a non-empty target with TARGET_NOT_EMPTY. */
export function prepareRestoreTarget(input: unknown, deps: StepDeps): Promise<RestoreNodeInput> {
  return nodeStep(input, deps, async ({ state, at, driver, context }) => {
    const ctx = await context();
    // An encrypted backup's keys (and those of the backups it extends) are opened first: a missing or
    // wrong key fails before the target is looked at. Later backups (`chain`, a point-in-time
    // restore's binary logs) are opened when read: a restore that reads none never needs their keys.
    await openDataKeys([ctx.backup, ...ctx.bases ?? []], keyOpener(state.keys, deps));
    await writePrepared(deps.store, at, await driver.prepareTarget(ctx));
  });
}

/** On one node: downloads and proves what its restore needs, touching nothing of the target (drivers with `stage`). */
export function stageRestore(input: unknown, deps: StepDeps): Promise<RestoreNodeInput> {
  return nodeStep(input, deps, async ({ state, at, driver, context, onTarget }) => {
    const stage = optionalStep(driver, 'stage', state.backup.engine);
    await readPrepared(deps.store, at);
    const started = Date.now();
    const ctx = await context();
    const staged = await onTarget(ctx, () => stage(ctx, transferOf(state, deps)));
    await writeStaged(deps.store, at, { bytes: staged.bytes, durationMs: Date.now() - started });
  });
}

/** On one node: applies the backup (downloading it, or taking what stage put in the spool). */
export function restoreBackup(input: unknown, deps: StepDeps): Promise<RestoreNodeInput> {
  return nodeStep(input, deps, async ({ state, at, driver, context, onTarget }) => {
    const prepared = await readPrepared(deps.store, at);
    const staged = state.phases.stage ? await readStaged(deps.store, at) : undefined;
    const ctx = await context();
    const result = await onTarget(ctx, () => driver.restore(ctx, prepared, transferOf(state, deps)));
    // The download is the stage's: its bytes and time are the restore's too.
    const applied = staged ? { ...result, bytes: Math.max(result.bytes, staged.bytes), durationMs: result.durationMs + staged.durationMs } : result;
    // The node's restore has finished only once its start has, for a driver that starts servers.
    await writeNodeResult(deps.store, at, applied, state.phases.start ? 'applied' : 'result');
    if (!state.phases.start) await releaseRunDir(ctx.spoolDir, state.restoreId);
  });
}

/** On one node, once every node is restored: starts what its restore put in place (drivers with `start`). */
export function startRestored(input: unknown, deps: StepDeps): Promise<RestoreNodeInput> {
  return nodeStep(input, deps, async ({ state, at, driver, context, onTarget }) => {
    const start = optionalStep(driver, 'start', state.backup.engine);
    const restored = await readNodeResult(deps.store, at, 'applied');
    const started = Date.now();
    const ctx = await context();
    const result = await onTarget(ctx, () => start(ctx, restored));
    await writeNodeResult(deps.store, at, { ...result, durationMs: restored.durationMs + (Date.now() - started) });
    await releaseRunDir(ctx.spoolDir, state.restoreId);
  });
}

/** The driver's validation of `result`, with the checks of what it let go once that was done ({@link RestoreDriver.afterValidation}). */
async function provenThenLetGo(driver: RestoreDriver, ctx: RestoreContext<unknown>, result: RestoreResult): Promise<ValidationReport> {
  const report = await driver.validateRestore(ctx, result);
  const after = await driver.afterValidation?.(ctx, result, report) ?? [];
  return after.length === 0 ? report : { ok: report.ok && after.every((c) => c.ok), checks: [...report.checks, ...after] };
}

/**
 * Proves the restore, on the first node's host: every node's result merged (node-results.ts) is
 * recorded, the driver compares the restored database with the manifest's facts, the report goes
 * to the store.
 */
export async function validateRestoredBackup(input: unknown, deps: StepDeps): Promise<RestoreState> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  return runStep(state.backup.engine, deps, async () => {
    const results = await Promise.all(state.nodes.map(async (node) => {
      const result = await findNodeResult(deps.store, { ...state, node });
      if (!result) throw new PermanentError(`nothing restored yet on node ${node.name} (run the apply step first)`, { code: 'STEP_ORDER' });
      return { node: node.name, result };
    }));
    const driver = deps.registry.restoreDriver(state.backup.engine);
    const ctx = await restoreContext(state, state.nodes[0], deps, false);
    const result = mergedResult(results, driver.endpoint?.(ctx.target));
    const resultKey = await writeResult(deps.store, state, result);
    const report = await provenThenLetGo(driver, ctx, result);
    const key = await writeValidation(deps.store, state, report);
    return {
      ...state,
      result: { key: resultKey, endpoint: scalarFields(result.endpoint), bytes: result.bytes, durationMs: result.durationMs },
      validation: { key, ok: report.ok, checks: report.checks.length, failed: report.checks.filter((c) => !c.ok).length },
    };
  });
}

/**
 * Writes the full report (every check, the whole endpoint) to the store, removes the records only
 * the steps needed (after a failure the restore's cleanup does), and returns the summary. A failed validation is a PermanentError RESTORE_INVALID
 * naming the failed checks (the first ten, and how many more) and where the report is; one failed
 * only by checks that could not look (`ValidationCheck.inconclusive`) is RESTORE_UNPROVEN.
 */
export async function reportRestore(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<RestoreSummary> {
  const state = parseInput(restoreStateSchema, input, 'restore state');
  return runStep(state.backup.engine, deps, async () => {
    if (!state.result || !state.validation) {
      throw new PermanentError('restore not validated yet (run the validate step first)', { code: 'STEP_ORDER' });
    }
    const [result, validation] = await Promise.all([readResult(deps.store, state), readValidation(deps.store, state)]);
    const reportKey = restoreRecordKey(state, 'report');
    const common = {
      ...restoreIdentity(state),
      bytes: result.bytes,
      restoreDurationMs: result.durationMs,
      totalDurationMs: now.getTime() - Date.parse(state.startedAt),
      reportKey,
      ...(state.backup.passedOver ? { passedOver: state.backup.passedOver } : {}),
    };
    const report: RestoreReport = { ...common, endpoint: result.endpoint, validation };
    await putStepRecord(deps.store, reportKey, report);
    const summary: RestoreSummary = {
      ...common,
      endpoint: scalarFields(result.endpoint),
      validation: { ok: validation.ok, checks: validation.checks.length, failed: validation.checks.filter((c) => !c.ok).length },
    };
    deps.logger.info('restore finished', { ...summary });
    if (!validation.ok) {
      // The records stay for the failure path's cleanup, which reads how far the restore got and then removes them.
      const failed = validation.checks.filter((c) => !c.ok);
      if (failed.every((c) => c.inconclusive === true)) {
        throw new PermanentError(
          `restore of ${state.backup.backupId} not proven: its validation could not look: ${failedChecksText(validation.checks)}; this says nothing of the backup (full report: ${reportKey})`,
          { code: 'RESTORE_UNPROVEN', engine: state.backup.engine },
        );
      }
      throw new PermanentError(`restore of ${state.backup.backupId} failed validation: ${failedChecksText(validation.checks)} (full report: ${reportKey})`, { code: 'RESTORE_INVALID', engine: state.backup.engine });
    }
    await removeIntermediateRecords(deps.store, state);
    return summary;
  });
}

/** The scalar fields of an endpoint (host, port, data dir…): what the state and summary carry. */
function scalarFields(endpoint: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const scalars: Record<string, string | number | boolean | null> = {};
  for (const [name, value] of Object.entries(endpoint)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) scalars[name] = value as string | number | boolean | null;
  }
  return scalars;
}
