/**
 * The backup, one stateless step at a time:
 *
 *     prepare → for each node: snapshot → validate → upload → finalize, cleanup on every path
 *
 * Each step takes the state JSON, does its work, and returns the state with its result added.
 * Each is idempotent, so a retry is safe. The per-node steps run where the node's spool is (the
 * database host, through the host runner); prepare and finalize only need the store.
 */
import { randomUUID } from 'node:crypto';
import { PermanentError } from '../errors';
import { backupPrefix, manifestKey, newBackupId } from '../catalog/layout';
import { MANIFEST_FORMAT_VERSION, type BackupManifest } from '../catalog/manifest';
import { readJson, writeJson } from '../store/json';
import { deletePrefix } from '../store/blob-store';
import type { BackupContext, JsonObject, NodeRef, SnapshotRef, StoredArtifact } from '../driver/types';
import { runHolder } from '../runs/run-holder';
import { guarded, parseInput, runStep, type StepDeps } from '../steps/step-deps';
import {
  backupRequestSchema, backupStateSchema, finalizeInputSchema, nodeStateSchema,
  type BackupRequest, type BackupRun, type BackupState, type BackupSummary, type FinalizeInput, type NodeState,
} from './backup-state';
import { attemptOf, enterNodeRunDir, recordSnapshot, releaseNodeRunDir, resumedSnapshot } from './node-run';
import { planResume } from './resume-plan';
import { configSha256, readRunRecord, removeRunRecords, writeRunRecord } from './run-records';

const DEFAULT_NODE = 'default';

async function resolvedConfig(state: BackupState, deps: StepDeps): Promise<unknown> {
  return deps.registry.parseConfig(state.engine, await deps.resolveSecrets(state.config));
}

/** The node step's context, once it has claimed the node's run directory on this host. */
async function nodeContext(state: NodeState, deps: StepDeps): Promise<BackupContext> {
  const spoolDir = await enterNodeRunDir(state, deps);
  return {
    backupId: state.backupId,
    instance: state.instance,
    config: await resolvedConfig(state, deps),
    node: state.node,
    spoolDir,
    destination: { store: deps.store, prefix: nodePrefix(state), rateLimit: state.rateLimit },
    logger: deps.logger,
  };
}

/** Key prefix of one node's artifacts in the store. */
function nodePrefix(state: NodeState): string {
  return `${state.prefix}/data/${state.node.name}`;
}

/**
 * Checks the request (engine known, config valid), then either continues the incomplete backup a
 * killed run left (resume-plan.ts: same backup id, a new attempt) or assigns a new backup id and
 * lists the nodes. Records the attempt as the backup's owner in the store (run-records.ts).
 */
export async function prepareBackup(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<BackupState> {
  const { resume: mode, ...request } = parseInput(backupRequestSchema, input, 'backup request');
  return runStep(request.engine, deps, async () => {
    const driver = deps.registry.backupDriver(request.engine);
    const config = deps.registry.parseConfig(request.engine, await deps.resolveSecrets(request.config));
    const attempt: BackupRun = { id: randomUUID(), startedAt: now.toISOString() };
    const plan = await planResume({ ...request, resume: mode }, config, driver, deps, now);
    let state: BackupState;
    if (plan.resume) {
      const { backupId, startedAt, nodes } = plan.record;
      state = { ...request, backupId, prefix: backupPrefix(request.engine, request.instance, backupId), startedAt, nodes, run: { ...attempt, resumes: plan.record.run.id } };
    } else {
      const backupId = newBackupId(now);
      const listed = driver.listNodes
        ? await guarded(deps, deps.registry.backupBreakerTarget(request.engine, request.instance, config), () => driver.listNodes!({ backupId, instance: request.instance, config, logger: deps.logger }))
        : [{ name: DEFAULT_NODE }];
      const nodes: NodeRef[] = listed.map((node) => ({ ...node, host: node.host ?? request.host }));
      state = { ...request, backupId, prefix: backupPrefix(request.engine, request.instance, backupId), startedAt: now.toISOString(), nodes, run: attempt };
    }
    if (plan.outcome) state.resumeOutcome = plan.outcome;
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
    run,
    holder: runHolder({ orchestrator: deps.orchestrator, runStartedAt: run.startedAt, includeSelf: false }),
  });
}

/** The per-node state the Map hands to the node steps (the spool is chosen on the node's host). */
export function nodeState(state: BackupState, node: NodeRef): NodeState {
  return { ...state, node };
}

/**
 * Takes the consistent snapshot of one node into its spool (through the circuit breaker of the endpoint it reads)
 * and records it in the store, so a later attempt can continue the backup should this one die.
 * A resumed backup takes over the snapshot the dead attempt completed instead (node-run.ts).
 */
export async function snapshotNode(input: unknown, deps: StepDeps): Promise<NodeState> {
  const state = parseInput(nodeStateSchema, input, 'backup node state');
  return runStep(state.engine, deps, async () => {
    const driver = deps.registry.backupDriver(state.engine);
    const ctx = await nodeContext(state, deps);
    if (attemptOf(state).resumes !== undefined) {
      return { ...state, spoolDir: ctx.spoolDir, snapshot: await resumedSnapshot(state, deps, ctx.spoolDir) };
    }
    const snapshot = await guarded(deps, deps.registry.backupBreakerTarget(state.engine, state.instance, ctx.config), () => driver.createSnapshot(ctx));
    deps.logger.info('snapshot taken', { backupId: state.backupId, engine: state.engine, node: state.node.name, consistency: snapshot.consistency });
    await recordSnapshot(state, deps, snapshot, ctx.config);
    return { ...state, spoolDir: ctx.spoolDir, snapshot };
  });
}

/** Validates a node's spooled snapshot; a failed report is a PermanentError listing the failed checks. */
export async function validateNode(input: unknown, deps: StepDeps): Promise<NodeState> {
  const state = parseInput(nodeStateSchema, input, 'backup node state');
  return runStep(state.engine, deps, async () => {
    const snapshot = requireSnapshot(state);
    const validation = await deps.registry.backupDriver(state.engine).validateSnapshot(await nodeContext(state, deps), snapshot);
    if (!validation.ok) {
      const failed = validation.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
      throw new PermanentError(`snapshot ${state.backupId} (${state.node.name}) failed validation: ${failed.join('; ')}`, { code: 'SNAPSHOT_INVALID', engine: state.engine });
    }
    return { ...state, validation };
  });
}

/** Uploads a node's spooled artifacts (rate limited, resumable, sha256 re-checked). */
export async function uploadNode(input: unknown, deps: StepDeps): Promise<NodeState> {
  const state = parseInput(nodeStateSchema, input, 'backup node state');
  return runStep(state.engine, deps, async () => {
    const snapshot = requireSnapshot(state);
    const upload = await deps.registry.backupDriver(state.engine).upload(await nodeContext(state, deps), snapshot, {
      store: deps.store,
      prefix: nodePrefix(state),
      rateLimit: state.rateLimit,
      onProgress: (done, total) => deps.onProgress?.('upload', done, total),
    });
    return { ...state, upload };
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
    await deps.registry.backupDriver(state.engine).cleanup(ctx, { consistency: state.snapshot?.consistency ?? {}, spoolDir: ctx.spoolDir });
    await releaseNodeRunDir(state, deps);
    return { cleaned: state.node.name, backupId: state.backupId };
  });
}

/**
 * Writes manifest.json — last, and only after checking every node validated and every artifact is
 * in the store at its recorded size. Idempotent: an existing manifest for this backup is kept.
 */
export async function finalizeBackup(input: unknown, deps: StepDeps, now: Date = new Date()): Promise<BackupSummary> {
  const state = parseInput(finalizeInputSchema, input, 'finalize input');
  return runStep(state.engine, deps, async () => {
    const key = manifestKey(state.prefix);
    const existing = (await readJson(deps.store, key)) as BackupManifest | undefined;
    const manifest = existing ?? (await buildManifest(state, deps, now));
    if (!existing) await writeJson(deps.store, key, manifest);
    await removeRunRecords(deps.store, state.prefix, state.nodes.map((n) => n.name));
    deps.logger.info('backup complete', { backupId: state.backupId, engine: state.engine, bytes: manifest.bytes });
    return {
      backupId: manifest.backupId,
      engine: manifest.engine,
      instance: manifest.instance,
      manifestKey: key,
      bytes: manifest.bytes,
      durationMs: Date.parse(manifest.completedAt) - Date.parse(manifest.startedAt),
      consistency: manifest.consistency,
      validation: { ok: manifest.validation.ok, checks: manifest.validation.checks.length },
      sentBytes: sentBytes(state),
      ...(state.resumeOutcome ? { resume: state.resumeOutcome } : {}),
    };
  });
}

/**
 * Bytes this attempt sent to the store: what its uploads sent, and what a snapshot it took wrote
 * straight to the store (a resumed node's snapshot was written by the attempt before).
 */
function sentBytes(state: FinalizeInput): number {
  const resumed = attemptOf(state).resumes !== undefined;
  return state.nodeResults.reduce((sum, result) => {
    const streamed = (result.snapshot?.artifacts ?? []).filter((a) => a.key !== undefined).reduce((s, a) => s + a.size, 0);
    const uploaded = result.upload ? result.upload.sentBytes ?? result.upload.bytes - streamed : 0;
    return sum + (resumed ? 0 : streamed) + uploaded;
  }, 0);
}

async function buildManifest(state: FinalizeInput, deps: StepDeps, now: Date): Promise<BackupManifest> {
  const single = state.nodeResults.length === 1;
  const artifacts: StoredArtifact[] = [];
  const consistency: Record<string, JsonObject> = {};
  const facts: Record<string, JsonObject> = {};
  const checks: BackupManifest['validation']['checks'] = [];
  for (const result of state.nodeResults) {
    const snapshot = requireSnapshot(result);
    const node = result.node.name;
    if (!result.validation?.ok) {
      throw new PermanentError(`backup ${state.backupId} node ${node} has no passing validation; refusing to mark it complete`, { code: 'NOT_VALIDATED' });
    }
    if (!result.upload) {
      throw new PermanentError(`backup ${state.backupId} node ${node} was not uploaded; refusing to mark it complete`, { code: 'NOT_UPLOADED' });
    }
    for (const artifact of result.upload.artifacts) {
      await assertStored(deps, artifact);
      artifacts.push(single ? artifact : { ...artifact, name: `${node}/${artifact.name}` });
    }
    consistency[node] = snapshot.consistency;
    facts[node] = snapshot.facts;
    checks.push(...result.validation.checks.map((c) => (single ? c : { ...c, name: `${node}:${c.name}` })));
  }
  const plugin = deps.registry.get(state.engine);
  const only = state.nodeResults[0].node.name;
  return {
    formatVersion: MANIFEST_FORMAT_VERSION,
    backupId: state.backupId,
    engine: state.engine,
    instance: state.instance,
    driver: { name: plugin.manifest.name, version: plugin.manifest.version },
    startedAt: state.startedAt,
    completedAt: now.toISOString(),
    consistency: single ? consistency[only] : { nodes: consistency },
    facts: single ? facts[only] : { nodes: facts },
    artifacts,
    bytes: artifacts.reduce((sum, a) => sum + a.size, 0),
    validation: { ok: true, checks },
  };
}

async function assertStored(deps: StepDeps, artifact: StoredArtifact): Promise<void> {
  const info = await deps.store.head(artifact.key);
  if (!info || info.size !== artifact.size) {
    throw new PermanentError(
      `artifact ${artifact.key} is ${info ? `${info.size} bytes, expected ${artifact.size}` : 'missing'} in ${deps.store.url}; refusing to mark the backup complete`,
      { code: 'ARTIFACT_MISSING' },
    );
  }
}

function requireSnapshot(state: NodeState): SnapshotRef {
  if (!state.snapshot) {
    throw new PermanentError(`backup ${state.backupId} node ${state.node.name} has no snapshot yet (run the snapshot step first)`, { code: 'STEP_ORDER' });
  }
  return state.snapshot;
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
