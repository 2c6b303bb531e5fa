/**
 * The backup, one stateless step at a time:
 *
 *     prepare → for each node: snapshot → validate → upload → finalize (finalize.ts), cleanup on every path
 *
 * Each step takes the state JSON, does its work, and returns the state with its result added:
 * what grows with the database goes to the store (step-results.ts), the state gets its key.
 * Each is idempotent, so a retry is safe. The per-node steps run where the node's spool is (the
 * database host, through the host runner); prepare and finalize only need the store.
 */
import { randomUUID } from 'node:crypto';
import { PermanentError } from '../errors';
import { backupPrefix, manifestKey, newBackupId, poolPrefix } from '../catalog/layout';
import type { BackupManifest } from '../catalog/manifest';
import { readJson } from '../store/json';
import { deletePrefix } from '../store/blob-store';
import type { BackupContext, JsonObject, NodeRef, SnapshotRef } from '../driver/types';
import { takeSnapshot } from '../driver/take-snapshot';
import { keepKey, nodeEncoding } from '../crypto/encoding-settings';
import { poolEncoding } from '../crypto/pool-key';
import { runHolder } from '../runs/run-holder';
import { guarded, parseInput, runStep, type StepDeps } from '../steps/step-deps';
import { failedChecksText } from '../steps/step-records';
import { assertRequestFits } from '../steps/request-size';
import { deadlineOf, splitRunInput } from '../steps/run-deadline';
import {
  MAX_BACKUP_NODES, backupRequestSchema, backupStateSchema, nodeStateSchema,
  type BackupRequest, type BackupRun, type BackupState, type NodeState,
} from './backup-state';
import { nodeConsistency } from './manifest-builder';
import { attemptOf, enterNodeRunDir, recordSnapshot, releaseNodeRunDir, resumedSnapshot } from './node-run';
import { planResume } from './resume-plan';
import { assertIncrementalSupported, chooseBase, readBase, resumedBase, type BasePlan } from './incremental-base';
import { DEFAULT_NODE } from '../driver/node-ref';
import { configSha256, encodingSha256, nodeRecordKey, readNodeRecord, readRunRecord, writeRunRecord } from './run-records';
import { readSnapshot, snapshotSummary, writeUpload, writeValidation } from './step-results';

async function resolvedConfig(state: Pick<BackupState, 'engine' | 'config'>, deps: StepDeps): Promise<unknown> {
  return deps.registry.parseConfig(state.engine, await deps.resolveSecrets(state.config));
}

/**
 * The node step's context, once it has claimed the node's run directory on this host. Without the
 * base's record (`previous`): only the snapshot step reads it (incremental-base.ts).
 */
async function nodeContext(state: NodeState, deps: StepDeps, { encodes = false } = {}): Promise<BackupContext> {
  const spoolDir = await enterNodeRunDir(state, deps);
  // Only the steps that write artifacts make or read the node's data key (validation and cleanup never need KMS).
  const encoding = encodes ? await nodeEncoding(state, spoolDir, { engine: state.engine, instance: state.instance, backup: state.backupId }, deps) : undefined;
  const pool = poolPrefix(state.engine, state.instance);
  let pooled: ReturnType<typeof poolEncoding> | undefined;
  return {
    backupId: state.backupId,
    instance: state.instance,
    config: await resolvedConfig(state, deps),
    node: state.node,
    spoolDir,
    destination: { store: deps.store, prefix: nodePrefix(state), rateLimit: state.rateLimit, ...(encoding ? { encoding } : {}) },
    pool: {
      store: deps.store,
      prefix: pool,
      rateLimit: state.rateLimit,
      ...(encodes ? {
        poolEncoding: () => (pooled ??= poolEncoding(state, deps.store, pool, { engine: state.engine, instance: state.instance, use: 'pool' }, deps, encoding?.key?.wrapped).then(async (made) => {
          if (made?.key) await keepKey(spoolDir, made.key); // validation opens pooled artifacts with it
          return made;
        })),
      } : {}),
    },
    logger: deps.logger,
  };
}

/** Key prefix of one node's artifacts in the store. */
function nodePrefix(state: NodeState): string {
  return `${state.prefix}/data/${state.node.name}`;
}

/**
 * Checks the request (engine known, config valid, `incremental` only for a driver that takes
 * incremental backups), then either continues the incomplete backup a killed run left
 * (resume-plan.ts: same backup id, a new attempt, the same base) or assigns a new backup id, lists
 * the nodes and, for an incremental request, chooses the backup it extends (incremental-base.ts).
 * Records the attempt as the backup's owner in the store (run-records.ts). From a state machine the
 * input is `{ request, budget }`, and the state gets the run's `deadline`.
 */
export async function prepareBackup(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<BackupState> {
  const { request: raw, budget } = splitRunInput(input);
  assertRequestFits(raw, 'backup request');
  const { resume: mode, ...request } = parseInput(backupRequestSchema, raw, 'backup request');
  return runStep(request.engine, deps, async () => {
    const driver = deps.registry.backupDriver(request.engine);
    if (request.incremental) assertIncrementalSupported(request.engine, deps);
    const config = deps.registry.parseConfig(request.engine, await deps.resolveSecrets(request.config));
    const attempt: BackupRun = { id: randomUUID(), startedAt: now.toISOString() };
    const plan = await planResume({ ...request, resume: mode }, config, driver, deps, now);
    let state: BackupState;
    let basePlan: BasePlan;
    if (plan.resume) {
      const { backupId, startedAt, nodes } = plan.record;
      state = { ...request, backupId, prefix: backupPrefix(request.engine, request.instance, backupId), startedAt, nodes, run: { ...attempt, resumes: plan.record.run.id } };
      basePlan = resumedBase(plan.record, request.incremental === true);
    } else {
      const backupId = newBackupId(now);
      const listed = driver.listNodes
        ? await guarded(deps, request.engine, deps.registry.backupBreakerTarget(request.engine, request.instance, config), () => driver.listNodes!({ backupId, instance: request.instance, config, logger: deps.logger }))
        : [{ name: DEFAULT_NODE }];
      const nodes: NodeRef[] = listed.map((node) => ({ ...node, host: node.host ?? request.host }));
      if (nodes.length > MAX_BACKUP_NODES) {
        throw new PermanentError(`${request.engine}/${request.instance} has ${nodes.length} nodes; a backup takes at most ${MAX_BACKUP_NODES} (the state machine's history limit)`, { code: 'TOO_MANY_NODES' });
      }
      state = { ...request, backupId, prefix: backupPrefix(request.engine, request.instance, backupId), startedAt: now.toISOString(), nodes, run: attempt };
      basePlan = request.incremental ? await chooseBase(request.engine, request.instance, deps) : {};
    }
    Object.assign(state, deadlineOf(budget));
    if (plan.outcome) state.resumeOutcome = plan.outcome;
    if (basePlan.base) state.base = basePlan.base;
    if (basePlan.outcome) state.incrementalOutcome = basePlan.outcome;
    await writeOwnRunRecord(state, request, deps);
    return state;
  });
}

/** Makes this attempt the backup's owner in the store. */
async function writeOwnRunRecord(state: BackupState, request: Omit<BackupRequest, 'resume'>, deps: StepDeps): Promise<void> {
  const run = attemptOf(state);
  await writeRunRecord(deps.store, state.prefix, {
    formatVersion: 1,
    backupId: state.backupId,
    engine: state.engine,
    instance: state.instance,
    startedAt: state.startedAt,
    nodes: state.nodes,
    configSha256: configSha256(request.config),
    encodingSha256: encodingSha256(request),
    ...(state.base ? { base: state.base } : {}),
    run,
    holder: runHolder({ orchestrator: deps.orchestrator, runStartedAt: run.startedAt, includeSelf: false }),
  });
}

/** The per-node state the Map hands to the node steps (the spool is chosen on the node's host); without the node list. */
export function nodeState(state: BackupState, node: NodeRef): NodeState {
  const { nodes: _nodes, ...backup } = state;
  return { ...backup, node };
}

/**
 * Takes the consistent snapshot of one node into its spool (through the circuit breaker of the endpoint it reads)
 * and records it in the store, so a later attempt can continue the backup should this one die.
 * An incremental backup's driver is given the record of the backup it extends (`previous`),
 * checked to be the one prepare chose (BASE_CHANGED, BASE_NOT_FOUND: incremental-base.ts).
 * A resumed backup takes over the snapshot the dead attempt completed instead (node-run.ts).
 * The state gets the record's key and counts (step-results.ts), never the artifact list or facts.
 */
export async function snapshotNode(input: unknown, deps: StepDeps): Promise<NodeState> {
  const state = parseInput(nodeStateSchema, input, 'backup node state');
  return runStep(state.engine, deps, async () => {
    const driver = deps.registry.backupDriver(state.engine);
    const ctx = await nodeContext(state, deps, { encodes: true });
    const key = nodeRecordKey(state.prefix, state.node.name);
    if (attemptOf(state).resumes !== undefined) {
      const resumed = await resumedSnapshot(state, deps, ctx.spoolDir);
      checkSnapshotRecord(state, deps, resumed);
      return { ...state, spoolDir: ctx.spoolDir, snapshot: snapshotSummary(key, resumed) };
    }
    const previous = await readBase(state, deps);
    if (previous) ctx.previous = previous;
    const snapshot = await guarded(deps, state.engine, deps.registry.backupBreakerTarget(state.engine, state.instance, ctx.config), () => takeSnapshot(state.engine, driver, ctx));
    checkSnapshotRecord(state, deps, snapshot);
    deps.logger.info('snapshot taken', { backupId: state.backupId, engine: state.engine, node: state.node.name, consistency: snapshot.consistency });
    await recordSnapshot(state, deps, snapshot, ctx.config);
    return { ...state, spoolDir: ctx.spoolDir, snapshot: snapshotSummary(key, snapshot) };
  });
}

/** Checks what a node's snapshot records against its driver's record schemas (INVALID_SNAPSHOT_RECORD naming the field). */
function checkSnapshotRecord(state: NodeState, deps: StepDeps, snapshot: SnapshotRef): void {
  deps.registry.checkRecord(state.engine, snapshot, `the snapshot of ${state.engine}/${state.instance} node ${state.node.name}`, 'INVALID_SNAPSHOT_RECORD');
}

/**
 * Validates a node's spooled snapshot and keeps the report in the store; a failed report is a
 * PermanentError naming the failed checks (the first ten, and how many more).
 */
export async function validateNode(input: unknown, deps: StepDeps): Promise<NodeState> {
  const state = parseInput(nodeStateSchema, input, 'backup node state');
  return runStep(state.engine, deps, async () => {
    requireSnapshot(state);
    const ctx = await nodeContext(state, deps);
    const snapshot = await readSnapshot(deps.store, state, ctx.spoolDir);
    const report = await deps.registry.backupDriver(state.engine).validateSnapshot(ctx, snapshot);
    if (!report.ok) {
      throw new PermanentError(`snapshot ${state.backupId} (${state.node.name}) failed validation: ${failedChecksText(report.checks)}`, { code: 'SNAPSHOT_INVALID', engine: state.engine });
    }
    return { ...state, validation: await writeValidation(deps.store, state, report) };
  });
}

/** Uploads a node's spooled artifacts (rate limited, resumable, sha256 re-checked); the stored list goes to the store. */
export async function uploadNode(input: unknown, deps: StepDeps): Promise<NodeState> {
  const state = parseInput(nodeStateSchema, input, 'backup node state');
  return runStep(state.engine, deps, async () => {
    requireSnapshot(state);
    const ctx = await nodeContext(state, deps, { encodes: true });
    const snapshot = await readSnapshot(deps.store, state, ctx.spoolDir);
    const upload = await deps.registry.backupDriver(state.engine).upload(ctx, snapshot, {
      ...ctx.destination!,
      onProgress: (done, total) => deps.onProgress?.('upload', done, total),
    });
    return { ...state, upload: await writeUpload(deps.store, state, upload) };
  });
}

/**
 * Removes one node's spool, engine-side snapshot state and run directory (the backup's directory
 * on the host goes with its last node's). Safe at any point, any number of times.
 */
export async function cleanupNode(input: unknown, deps: StepDeps): Promise<{ cleaned: string; backupId: string }> {
  const state = parseInput(nodeStateSchema, input, 'backup node state');
  return runStep(state.engine, deps, async () => {
    const ctx = await nodeContext(state, deps);
    const consistency = await recordedConsistency(state, deps);
    await deps.registry.backupDriver(state.engine).cleanup(ctx, { consistency, spoolDir: ctx.spoolDir });
    await releaseNodeRunDir(state, deps);
    return { cleaned: state.node.name, backupId: state.backupId };
  });
}

/** Refuses a node step whose state has no snapshot yet. */
export function requireSnapshot(state: NodeState): void {
  if (!state.snapshot) {
    throw new PermanentError(`backup ${state.backupId} node ${state.node.name} has no snapshot yet (run the snapshot step first)`, { code: 'STEP_ORDER' });
  }
}

/**
 * The node's consistency point, for the driver's cleanup: from its snapshot record while the backup
 * is incomplete, from the manifest once finalize has folded the records into it, and `{}` when the
 * snapshot never completed.
 */
async function recordedConsistency(state: NodeState, deps: StepDeps): Promise<JsonObject> {
  const record = await readNodeRecord(deps.store, state.prefix, state.node.name);
  if (record) return record.snapshot.consistency as JsonObject;
  const manifest = (await readJson(deps.store, manifestKey(state.prefix))) as Pick<BackupManifest, 'consistency' | 'facts'> | undefined;
  return manifest ? nodeConsistency(manifest, state.node.name) : {};
}

/**
 * On the failure path: deletes whatever a failed backup left in the store (artifacts streamed there
 * by a snapshot, finished uploads of other nodes), unless its manifest exists — a complete backup
 * is never touched — or another attempt owns it now (a rerun continues it). Returns how many
 * objects went.
 */
export async function discardIncompleteBackup(state: BackupState, deps: StepDeps): Promise<number> {
  if (await deps.store.head(manifestKey(state.prefix))) return 0;
  const owner = (await readRunRecord(deps.store, state.prefix))?.run.id;
  if (owner !== undefined && owner !== attemptOf(state).id) {
    deps.logger.warn('left the incomplete backup to the attempt that owns it now', { backupId: state.backupId, owner });
    return 0;
  }
  const discarded = await deletePrefix(deps.store, `${state.prefix}/`);
  if (discarded > 0) deps.logger.info('incomplete backup discarded', { backupId: state.backupId, engine: state.engine, objects: discarded });
  return discarded;
}

/** Re-validates the whole-backup state, e.g. for the cleanup step on the failure path. */
export function parseBackupState(input: unknown): BackupState {
  return parseInput(backupStateSchema, input, 'backup state');
}
