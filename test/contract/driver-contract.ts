/**
 * The driver contract suite: what every built-in driver promises, proven the same way for each, through
 * the synthesized state machines run in process, the real handlers, and the kit's real servers. A
 * driver joins by exporting kits from `drivers/<engine>/kit.ts` (driver-kit.ts); the suite's cases:
 *
 * - round trip: backup → validate → upload → finalize, then the restore's fetch manifest → prepare → stage → apply → start → validate → report, the restored data
 *   equal to the source as the backup recorded it (the driver's validation, and the kit's own read);
 * - crashes: a snapshot step whose host died after its work (half-written spool, stray objects)
 *   succeeds when re-run and leaves no strays; so does a restore step that died before recording;
 * - damage: one flipped byte in any artifact fails verify; in the first or last artifact it fails a
 *   forced restore before the target is touched; a truncated or missing artifact and an edited
 *   manifest are refused with errors naming them;
 * - a non-empty target is refused without force;
 * - an unreachable source is a retried TransientError, wrong credentials a PermanentError not retried,
 *   an invalid config names the field: nothing marked complete, nothing left in the store;
 * - prune keeps the newest verified backup;
 * - every step's payload stays small whatever the data.
 *
 * The suite runs twice for each kit, over one source: its backups stored as they are, then
 * compressed and encrypted on the client (a key file; restores given it) — each case that writes or
 * reads artifacts holds either way (failures before any artifact, a refusal in prepare and prune's
 * decisions run in the first run only). The encoded run adds what only sealed backups have: every
 * artifact sealed and verified without the key, a restore without it or with another refused
 * before the target is touched, and an encrypting upload step whose host died re-run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { BACKUPS_ROOT } from '../../core/catalog/layout';
import type { BackupManifest } from '../../core/catalog/manifest';
import { prune } from '../../core/catalog/prune';
import { isRestoreVerified } from '../../core/catalog/catalog';
import { unlistedArtifacts } from '../../core/catalog/backup-record';
import { InlineHostRunner } from '../../core/host-runner/inline-runner';
import type { HostRunner } from '../../core/host-runner/host-runner';
import type { StepDeps } from '../../core/steps/step-deps';
import { verifyBackup } from '../../core/catalog/verification';
import { ExecutionFailedError, type LocalExecution } from '../../statemachines/local/run-local';
import { processesNaming } from '../../core/host/processes-naming';
import { localWorkflows, type LocalWorkflows } from '../../statemachines/local/local-workflows';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../harness/runtime';
import { CrashingHostRunner, type Crash } from './crashing-host-runner';
import { hostStore } from './host-store';
import type { DriverKit, KitJson, KitSource, KitTarget } from './driver-kit';

/** The largest state a step may pass on, whatever the database's size: artifact data never travels in state. */
export const STEP_PAYLOAD_BOUND_BYTES = 8 * 1024;

/** What an error about a damaged artifact says: a checksum that differs, or (encrypted) a segment that does not open. */
const DAMAGED = /^(?![\s\S]*STATE_CORRUPT)[\s\S]*(?:sha256|checksum|corrupt|SEALED_ARTIFACT_DAMAGED)/i;

/** Milliseconds between the state machine's retries in the suite (the shipped policy waits seconds). */
const RETRY_INTERVAL_MS = 50;

type Stored = { key: string; name: string; size: number; sha256: string; stored?: { size: number } };

/** How the suite's backups store their artifacts: as they are, or compressed and encrypted on the client (every case run again). */
type ContractEncoding = 'plain' | 'encoded';

/**
 * Every case of the suite for `kit`, both ways (its backups stored as they are, then compressed and
 * encrypted), over one source started once for both: a kit's source is a server or a cluster (a
 * Cassandra node takes ~30 s to start), and each run takes its own shared backup of it.
 */
export function runDriverContract(kit: DriverKit): void {
  let source: KitSource | undefined;
  beforeAll(async () => {
    source = await kit.startSource();
  }, 300_000);
  afterAll(async () => {
    await source?.stop();
  }, 120_000);
  const started = (): KitSource => {
    if (!source) throw new Error(`kit ${kit.name}: its source did not start`);
    return source;
  };
  describe('stored as they are', () => runCases(kit, 'plain', started));
  describe('compressed and encrypted', () => runCases(kit, 'encoded', started));
}

/** The suite's cases for `kit`, its backups stored per `encoding`, of the source `sourceOf` gives (started before the first case, stopped by the caller). */
function runCases(kit: DriverKit, encoding: ContractEncoding, sourceOf: () => KitSource): void {
  let source: KitSource;
  let rt: TestRuntime;
  /** The host steps' dependencies: the store as a host's IAM policy lets it be used (host-store.ts). */
  let hostDeps: StepDeps;
  /** The state machines, host steps in process with {@link hostDeps}. */
  let flows: LocalWorkflows;
  const targets: KitTarget[] = [];
  /** The source's data when the shared backup was taken, and that backup. */
  let recorded: unknown;
  let backupId: string;
  let manifest: BackupManifest;
  /** Every Task input and result of the executions run through `rt`. */
  const payloads: Array<{ where: string; json: string }> = [];

  /** Where the suite's key files are (backup.key: the backups'; other.key: another). */
  let keyDir: string;
  const keyRef = (name: string) => ({ $secret: `file:${path.join(keyDir, name)}` });
  /** What a backup request adds to be compressed and encrypted with backup.key, and what a restore then adds to open it. */
  const encodedBackup = () => ({ compression: { level: 3 }, encryption: { key: keyRef('backup.key') } });
  const restoreKeys = () => (encoding === 'encoded' ? { keys: { key: keyRef('backup.key') } } : {});
  const backupRequest = (instance: string, config: KitJson = source.config) => ({ engine: kit.engine, instance, config, ...(encoding === 'encoded' ? encodedBackup() : {}) });
  /** A restore request of the suite's encoding: with the key when its backups are encrypted. */
  const restoreRequest = (request: Record<string, unknown>) => ({ ...request, ...restoreKeys() });
  const target = async () => {
    const made = await kit.scratchTarget();
    targets.push(made);
    return made;
  };
  const failure = (promise: Promise<unknown>) => promise.then(
    () => { throw new Error('expected the execution to fail, but it succeeded'); },
    (error: unknown) => {
      if (!(error instanceof ExecutionFailedError)) throw error;
      return error;
    },
  );
  /** The state machines run in process over `rt`, host steps run by `hostRunner`, every payload noted. */
  const workflowsWith = (hostRunner: HostRunner): LocalWorkflows => localWorkflows(rt, {
    waitMs: 10, retryIntervalMs: RETRY_INTERVAL_MS, definitions: shippedDefinitions(), hostRunner,
    onPayload: (value, where) => payloads.push({ where, json: JSON.stringify(value) }),
  });
  /** The workflows with a host that dies once in `step`. */
  const crashingWorkflows = (crash: Crash): { workflows: LocalWorkflows; runner: CrashingHostRunner } => {
    const runner = new CrashingHostRunner(hostDeps, crash);
    return { runner, workflows: workflowsWith(runner) };
  };
  const readObject = async (key: string) => buffer(await rt.store.get(key));
  /** Runs `act` with the object at `key` replaced by `damage(bytes)`, then puts the original back. */
  const withDamaged = async <T>(key: string, damage: (bytes: Buffer) => Buffer | undefined, act: () => Promise<T>): Promise<T> => {
    const original = await readObject(key);
    const damaged = damage(Buffer.from(original));
    if (damaged) await rt.store.put(key, damaged);
    else await rt.store.delete([key]);
    try {
      return await act();
    } finally {
      await rt.store.put(key, original);
    }
  };
  const flipByte = (at: (bytes: Buffer) => number) => (bytes: Buffer) => {
    bytes[at(bytes)] ^= 0x01;
    return bytes;
  };
  /** Small states, and no artifact list in any of them: neither a key nor a sha256 of the backup's artifacts. */
  const expectSmallPayloads = (execution: Pick<LocalExecution, 'limits'>, artifacts: Stored[]) => {
    expect(execution.limits.largestPayload.bytes).toBeLessThan(STEP_PAYLOAD_BOUND_BYTES);
    const carrying = payloads.filter((p) => artifacts.some((a) => p.json.includes(a.sha256) || p.json.includes(a.key)));
    expect(carrying.map((p) => p.where)).toEqual([]);
  };
  /** Keys in the store under the backup's prefix that hold data (not its manifest or records). */
  const storedDataKeys = async (prefix: string) => {
    const keys: string[] = [];
    for await (const object of rt.store.list(`${prefix}/data/`)) keys.push(object.key);
    return keys.sort();
  };
  /** The manifest's keys under the backup's own prefix (pooled artifacts live in the instance's pool; a crashed attempt's pool objects wait for prune's sweep). */
  const manifestKeys = (m: BackupManifest, prefix: string) => [...new Set(m.artifacts.map((a) => a.key).filter((key) => key.startsWith(`${prefix}/`)))].sort();

  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(os.tmpdir(), 'contract-keys-'));
    await writeFile(path.join(keyDir, 'backup.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    await writeFile(path.join(keyDir, 'other.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    source = sourceOf();
    rt = await createTestRuntime({ env: source.env });
    hostDeps = { ...rt.deps, store: hostStore(rt.deps.store) };
    flows = workflowsWith(new InlineHostRunner(hostDeps));
    recorded = await source.read();
    backupId = (await flows.backup(backupRequest('shared'))).backupId;
    manifest = (await rt.catalog.get(backupId)).manifest;
  }, 300_000);

  afterAll(async () => {
    for (const made of targets) await made.stop().catch(() => undefined);
    await rt?.dispose();
    await rm(keyDir, { recursive: true, force: true });
  }, 120_000);

  it('backs up and restores the data as the backup recorded it: the driver validates it, an independent read agrees, payloads stay small', async () => {
    // Prepare
    const before = await source.read();
    const scratch = await target();

    // Act
    payloads.length = 0;
    const backup = await flows.execute('backup', backupRequest('round-trip'));
    await source.change();
    const changed = await source.read();
    const summary = (backup.output as { summary: { backupId: string; validation: { ok: boolean }; sentBytes: number } }).summary;
    const restore = await flows.execute('restore', restoreRequest({ backupId: summary.backupId, target: scratch.target }));

    // Assess
    expect(changed).not.toEqual(before);
    expect(summary.validation.ok).toBe(true);
    const report = (restore.output as { report: { validation: { ok: boolean; checks: number; failed: number } } }).report;
    expect(report.validation).toMatchObject({ ok: true, failed: 0 });
    expect(report.validation.checks).toBeGreaterThan(0);
    expect(await scratch.read()).toEqual(before);
    const stored = (await rt.catalog.get(summary.backupId)).manifest;
    const artifacts = stored.artifacts as Stored[];
    // Every artifact the backup's facts name is in its manifest (what `verify` checks, for a driver that names them).
    expect(unlistedArtifacts(rt.registry, stored)).toEqual([]);
    // The encoded run's artifacts are each stored compressed and sealed (the plain run's as they are).
    expect(artifacts.filter((a) => (a.stored !== undefined) !== (encoding === 'encoded')).map((a) => a.name)).toEqual([]);
    // What the backup says it sent is counted as stored (compressed, sealed): never more than it stores (a pool may hold some already).
    expect(summary.sentBytes).toBeGreaterThan(0);
    expect(summary.sentBytes).toBeLessThanOrEqual(artifacts.reduce((sum, a) => sum + (a.stored?.size ?? a.size), 0));
    expect(payloads.length).toBeGreaterThan(10);
    expectSmallPayloads(backup, artifacts);
    expectSmallPayloads(restore, artifacts);
  }, 300_000);

  it('drills a backup into the driver\'s scratch target: restore-verified when good, "restore failed" with a flipped byte and the backup untouched', async () => {
    // Prepare
    const entry = await rt.catalog.get(backupId);
    const drill = () => flows.drill({ backupId, engine: kit.engine, instance: manifest.instance, targetSettings: kit.drillSettings, ...restoreKeys() });
    const artifact = manifest.artifacts[Math.floor(manifest.artifacts.length / 2)] as Stored;

    // Act
    const good = await drill();
    const goodEntry = await rt.catalog.get(backupId);
    const flipped = await withDamaged(artifact.key, flipByte((b) => Math.floor(b.length / 2)), drill);
    const flippedEntry = await rt.catalog.get(backupId);

    // Assess
    expect(good.reason).toBeUndefined();
    expect(good).toMatchObject({ backupId, ok: true, target: expect.stringMatching(/scratch/) });
    expect(good.checks.length).toBeGreaterThan(0);
    expect(good.checks.filter((c) => !c.ok)).toEqual([]);
    expect(isRestoreVerified(goodEntry)).toBe(true);
    expect(flipped).toMatchObject({ backupId, ok: false, reason: expect.stringMatching(DAMAGED) });
    expect(isRestoreVerified(flippedEntry)).toBe(false);
    expect(flippedEntry.drill).toMatchObject({ ok: false, reason: flipped.reason });
    expect(flippedEntry.manifest).toEqual(manifest);
    expect((await verifyBackup(rt.store, entry.prefix, manifest)).ok).toBe(true);
    // Both scratch targets torn down: their directories gone, and with them every server they ran.
    expect(await readdir(path.join(rt.spoolRoot, 'drill')).catch(() => [])).toEqual([]);
    expect(await processesNaming(path.join(rt.spoolRoot, 'drill'))).toEqual([]);
  }, 600_000);

  it('re-runs a snapshot step whose host died after its work (half-written spool, stray objects) and leaves no strays', async () => {
    // Prepare: the host dies after the snapshot, its spool cut in half and a partial object in the store.
    const { workflows, runner } = crashingWorkflows({
      step: 'backup-snapshot',
      afterWork: async (output) => {
        const state = output as { prefix: string; node: { name: string }; spoolDir: string };
        await halveFiles(state.spoolDir);
        await rt.store.put(`${state.prefix}/data/${state.node.name}/partial-upload.part`, Buffer.alloc(1000, 1));
      },
    });

    // Act
    const execution = await workflows.execute('backup', backupRequest('snapshot-crash'));

    // Assess
    expect(runner.crashes).toBe(1);
    expect(execution.retries.Snapshot).toBeGreaterThanOrEqual(1);
    const summary = (execution.output as { summary: { backupId: string } }).summary;
    const entry = await rt.catalog.get(summary.backupId);
    expect(entry.manifest.validation.ok).toBe(true);
    expect(await storedDataKeys(entry.prefix)).toEqual(manifestKeys(entry.manifest, entry.prefix));
    expect((await verifyBackup(rt.store, entry.prefix, entry.manifest)).ok).toBe(true);
    expect(await readdir(path.join(rt.spoolRoot, 'backup'))).toEqual([]);
  }, 300_000);

  it('re-runs a restore step whose host died after applying, as it recorded its result', async () => {
    // Prepare
    const scratch = await target();
    // The apply step's record: `result.json`, or `applied.json` for a driver whose start step comes after.
    const { workflows, runner } = crashingWorkflows({ step: 'restore-apply', beforeWriting: (key) => /\/nodes\/[^/]+\/(applied|result)\.json$/.test(key) });

    // Act
    const execution = await workflows.execute('restore', restoreRequest({ backupId, target: scratch.target }));

    // Assess
    expect(runner.crashes).toBe(1);
    expect(execution.retries.Apply).toBeGreaterThanOrEqual(1);
    expect((execution.output as { report: { validation: { ok: boolean } } }).report.validation.ok).toBe(true);
    expect(await scratch.read()).toEqual(recorded);
  }, 300_000);

  if (encoding === 'encoded') it('re-runs an encrypting upload step whose host died before recording it: complete, verified without the key, no strays, restored with it', async () => {
    // Prepare: the host dies once it has stored the node's artifacts, before the step records them.
    const before = await source.read();
    const { workflows, runner } = crashingWorkflows({ step: 'backup-upload', beforeWriting: (key) => /\/state\/[^/]+\/upload\.json$/.test(key) });
    const scratch = await target();

    // Act
    const execution = await workflows.execute('backup', backupRequest('encoded-crash'));
    const { backupId: crashedId } = (execution.output as { summary: { backupId: string } }).summary;
    const restored = await flows.execute('restore', restoreRequest({ backupId: crashedId, target: scratch.target }));

    // Assess
    expect(runner.crashes).toBe(1);
    expect(execution.retries.Upload).toBeGreaterThanOrEqual(1);
    const entry = await rt.catalog.get(crashedId);
    expect(entry.manifest.artifacts.every((a) => a.stored?.dataKey !== undefined)).toBe(true);
    expect(await storedDataKeys(entry.prefix)).toEqual(manifestKeys(entry.manifest, entry.prefix));
    expect((await verifyBackup(rt.store, entry.prefix, entry.manifest)).ok).toBe(true);
    expect((restored.output as { report: { validation: { ok: boolean } } }).report.validation.ok).toBe(true);
    expect(await scratch.read()).toEqual(before);
  }, 600_000);

  describe('damaged artifacts', () => {
    let occupied: KitTarget;
    let occupiedData: unknown;
    const forcedRestore = () => flows.execute('restore', restoreRequest({ backupId, target: occupied.forced, force: true }));

    beforeAll(async () => {
      // A target holding data a forced restore would replace: what a failed one must leave alone.
      occupied = await target();
      await flows.restore(restoreRequest({ backupId, target: occupied.target }));
      await source.change();
      const changedId = (await flows.backup(backupRequest('shared'))).backupId;
      await flows.restore(restoreRequest({ backupId: changedId, target: occupied.forced, force: true }));
      occupiedData = await occupied.read();
      expect(occupiedData).not.toEqual(recorded);
    }, 300_000);

    it('fails verify on one flipped byte in any artifact, naming it', async () => {
      const { prefix } = await rt.catalog.get(backupId);
      for (const artifact of manifest.artifacts as Stored[]) {
        const record = await withDamaged(artifact.key, flipByte((b) => Math.floor(b.length / 2)), () => verifyBackup(rt.store, prefix, manifest));
        expect(record.ok).toBe(false);
        // An object several artifacts share (a pool object named by its content) fails each of them.
        const sharing = manifest.artifacts.filter((a) => a.key === artifact.key).map((a) => a.name);
        expect(record.artifacts.filter((a) => !a.ok).map((a) => a.name)).toEqual(sharing);
      }
      expect((await verifyBackup(rt.store, prefix, manifest)).ok).toBe(true);
    }, 300_000);

    it.each([
      ['first', (artifacts: Stored[]) => artifacts[0], () => 0],
      ['last', (artifacts: Stored[]) => artifacts[artifacts.length - 1], (bytes: Buffer) => bytes.length - 1],
    ])('fails a forced restore on a flipped byte in the %s artifact before the target is touched', async (_which, pick, at) => {
      // Act
      const artifact = pick(manifest.artifacts as Stored[]);
      const error = await withDamaged(artifact.key, flipByte(at), () => failure(forcedRestore()));

      // Assess
      expect(error.errorName).toBe('PermanentError');
      expect(error.causeText).toMatch(DAMAGED);
      expect(error.causeText).toContain(artifact.name.split('/').pop());
      expect(error.execution.path).toContain('Cleanup after failure');
      expect(await occupied.read()).toEqual(occupiedData);
      // Bytes found changed are recorded as verify would: the backup CORRUPT (restore latest passes over it) until verify passes it again.
      const { prefix, verification } = await rt.catalog.find(backupId);
      if (error.causeText.startsWith('CHECKSUM_MISMATCH')) expect(verification).toMatchObject({ ok: false, artifacts: [{ ok: false, damaged: true }] });
      expect((await verifyBackup(rt.store, prefix, manifest)).ok).toBe(true);
    }, 300_000);

    it('refuses a truncated artifact, a missing artifact and an edited manifest with errors naming them', async () => {
      const { prefix } = await rt.catalog.get(backupId);
      const artifact = (manifest.artifacts as Stored[]).at(-1)!;
      const manifestKey = `${prefix}/manifest.json`;

      const truncated = await withDamaged(artifact.key, (b) => b.subarray(0, b.length - 1), () => failure(forcedRestore()));
      const missing = await withDamaged(artifact.key, () => undefined, () => failure(forcedRestore()));
      const editedSha = await withDamaged(manifestKey, (bytes) => {
        const edited = JSON.parse(bytes.toString('utf8')) as BackupManifest;
        (edited.artifacts[0] as Stored).sha256 = 'f'.repeat(64);
        return Buffer.from(JSON.stringify(edited));
      }, () => failure(forcedRestore()));
      const editedFormat = await withDamaged(manifestKey, (bytes) => Buffer.from(JSON.stringify({ ...JSON.parse(bytes.toString('utf8')), formatVersion: 99 })), () => failure(forcedRestore()));
      const editedRecord = await withDamaged(manifestKey, (bytes) => Buffer.from(JSON.stringify({ ...JSON.parse(bytes.toString('utf8')), consistency: {} })), () => failure(forcedRestore()));
      const fact = Object.keys(manifest.facts)[0];
      const editedFact = await withDamaged(manifestKey, (bytes) => {
        const edited = JSON.parse(bytes.toString('utf8')) as BackupManifest;
        return Buffer.from(JSON.stringify({ ...edited, facts: { ...edited.facts, [fact]: { edited: true } } }));
      }, () => failure(forcedRestore()));
      const noNodes = await withDamaged(manifestKey, (bytes) => Buffer.from(JSON.stringify({ ...JSON.parse(bytes.toString('utf8')), consistency: { nodes: {} }, facts: { nodes: {} } })), () => failure(forcedRestore()));

      const storedSize = artifact.stored?.size ?? artifact.size;
      expect(truncated.causeText).toMatch(new RegExp(`^ARTIFACT_SIZE_MISMATCH: .*${escape(artifact.key)} is ${storedSize - 1} bytes, expected ${storedSize}`));
      expect(missing.causeText).toMatch(new RegExp(`^ARTIFACT_MISSING: .*${escape(artifact.key)} is missing`));
      expect(editedSha.causeText).toMatch(/sha256|checksum/i);
      expect(editedSha.causeText).toContain((manifest.artifacts[0] as Stored).name.split('/').pop());
      expect(editedFormat.causeText).toMatch(/^BACKUP_DAMAGED: .* has format version 99; this dbbackup reads format versions 1 and 2 \(a newer dbbackup wrote it: upgrade to read it\)/);
      expect(editedRecord.causeText).toMatch(new RegExp(`^INVALID_MANIFEST: manifest ${escape(manifestKey)} does not hold what the ${kit.engine} driver records: `));
      // A multi-node manifest keeps each node's facts under `nodes`: the edit empties every node's, and the error names the node and its first missing fact.
      const factAt = fact === 'nodes' ? ` \\(node [^)]+\\) does not hold what the ${kit.engine} driver records: facts\\.\\w+: ` : ` does not hold what the ${kit.engine} driver records: facts\\.${escape(fact)}: `;
      expect(editedFact.causeText).toMatch(new RegExp(`^INVALID_MANIFEST: manifest ${escape(manifestKey)}${factAt}`));
      expect(noNodes.causeText).toMatch(/^INVALID_MANIFEST: .* records no node/);
      for (const error of [truncated, missing, editedSha, editedFormat, editedRecord, editedFact, noNodes]) expect(error.errorName).toBe('PermanentError');
      // Found as the artifacts are fetched, before anything is written: the cleanup says so, as the data below proves.
      for (const error of [truncated, missing]) expect(error.causeText).toMatch(/target (is )?untouched/);
      expect(await occupied.read()).toEqual(occupiedData);
    }, 300_000);

    // Refused in prepare, before any artifact is read: the encoded run would prove nothing more.
    if (encoding === 'plain') it('refuses a non-empty target without force and leaves its data', async () => {
      const error = await failure(flows.execute('restore', restoreRequest({ backupId, target: occupied.forced })));

      expect(error.causeText).toMatch(/^TARGET_NOT_EMPTY: /);
      expect(error.execution.path).not.toContain('Apply');
      expect(await occupied.read()).toEqual(occupiedData);
    }, 300_000);

    // Sealed artifacts: what only the encoded run's backups have.
    if (encoding === 'encoded') it('stores every artifact sealed and verifies it without the key; a forced restore without the key, or with another, fails before the target is touched', async () => {
      // Act
      const { prefix } = await rt.catalog.get(backupId);
      const withKeys = (keys: Record<string, unknown>) => flows.execute('restore', { backupId, target: occupied.forced, force: true, ...keys });
      const noKey = await failure(withKeys({}));
      const otherKey = await failure(withKeys({ keys: { key: keyRef('other.key') } }));

      // Assess: every object sealed (no plain byte of it stored), verify needs no key.
      expect(manifest.formatVersion).toBe(2);
      for (const artifact of manifest.artifacts) {
        const stored = await readObject(artifact.key);
        expect(artifact.stored).toMatchObject({ size: stored.length, sha256: createHash('sha256').update(stored).digest('hex'), dataKey: { provider: 'key-file' } });
        expect(stored.subarray(0, 4).toString('latin1')).toBe('DBS1');
      }
      expect((await verifyBackup(rt.store, prefix, manifest)).ok).toBe(true);
      expect(noKey.causeText).toMatch(/^KEY_UNAVAILABLE: .*no key was given to open it/);
      expect(otherKey.causeText).toMatch(/^KEY_MISMATCH: .*wrapped by the key with fingerprint sha256:[0-9a-f]{16}; the key file:.*other\.key is sha256:/);
      for (const error of [noKey, otherKey]) {
        expect(error.errorName).toBe('PermanentError');
        expect(error.causeText).toMatch(/target (is )?untouched/);
      }
      expect(await occupied.read()).toEqual(occupiedData);
    }, 300_000);

    it('restores over the same target with force once the backup is intact (what the cases above refused)', async () => {
      const execution = await forcedRestore();

      expect((execution.output as { report: { validation: { ok: boolean } } }).report.validation.ok).toBe(true);
      expect(await occupied.read()).toEqual(recorded);
    }, 300_000);
  });

  // Failures before any artifact is written, and prune's decisions, do not depend on how artifacts
  // are stored: the encoded run leaves them to the plain one (and keeps CI within its bound).
  if (encoding === 'plain') describe('a source that fails', () => {
    const nothingStored = async (instance: string) => {
      expect(await rt.catalog.list({ engine: kit.engine, instance, includeIncomplete: true })).toEqual([]);
      const left: string[] = [];
      for await (const object of rt.store.list(`${BACKUPS_ROOT}/${kit.engine}/${instance}/`)) left.push(object.key);
      expect(left).toEqual([]);
    };

    it('is a TransientError, retried, when unreachable: nothing is marked complete or left behind', async () => {
      const error = await failure(flows.execute('backup', backupRequest('unreachable', await source.unreachable())));

      expect(error.errorName).toBe('TransientError');
      expect(Object.values(error.execution.retries).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(error.execution.path).toContain('Cleanup after failure');
      await nothingStored('unreachable');
    }, 300_000);

    // Only for kits whose backups use credentials at all.
    if (kit.credentials !== false) it('is a PermanentError, not retried, with wrong credentials: nothing is marked complete or left behind', async () => {
      if (!source.wrongCredentials) throw new Error(`kit ${kit.name} uses credentials but has no wrongCredentials()`);
      const error = await failure(flows.execute('backup', backupRequest('wrong-credentials', await source.wrongCredentials())));

      expect(error.errorName).toBe('PermanentError');
      expect(error.causeText).toMatch(/^AUTH_FAILED: /);
      expect(Object.values(error.execution.retries).reduce((a, b) => a + b, 0)).toBe(0);
      await nothingStored('wrong-credentials');
    }, 300_000);

    it('names the bad field of an invalid config, before any host step', async () => {
      const { config, field } = source.invalid();

      const error = await failure(flows.execute('backup', backupRequest('invalid', config)));

      expect(error.errorName).toBe('PermanentError');
      expect(error.causeText).toMatch(/^INVALID_CONFIG: /);
      expect(error.causeText).toContain(field);
      expect(error.execution.path).not.toContain('Snapshot');
      await nothingStored('invalid');
    }, 300_000);
  });

  if (encoding === 'plain') it('never prunes the newest verified backup, whatever the rules say', async () => {
    // Prepare: an older verified backup, then two newer ones whose re-verification failed.
    const instance = 'retention';
    const [verified, middle, newest] = [await flows.backup(backupRequest(instance)), await flows.backup(backupRequest(instance)), await flows.backup(backupRequest(instance))];
    for (const { backupId: id } of [middle, newest]) {
      const entry = await rt.catalog.get(id);
      const record = await withDamaged(entry.manifest.artifacts[0].key, flipByte(() => 0), () => verifyBackup(rt.store, entry.prefix, entry.manifest));
      expect(record.ok).toBe(false);
    }

    // Act
    const decisions = await prune(rt.catalog, rt.store, { engine: kit.engine, instance, keepLast: 1, apply: true });

    // Assess
    expect(decisions.filter((d) => d.action === 'delete').map((d) => d.entry.backupId)).toEqual([middle.backupId]);
    expect(decisions.find((d) => d.entry.backupId === verified.backupId)).toMatchObject({ action: 'keep', reason: 'newest complete backup that passed its validation' });
    expect((await rt.catalog.list({ engine: kit.engine, instance })).map((e) => e.backupId)).toEqual([newest.backupId, verified.backupId]);
  }, 300_000);
}

/** Cuts every file under `dir` to half its size, as a process killed while writing leaves them. */
async function halveFiles(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    await truncate(file, Math.floor((await stat(file)).size / 2));
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
