/**
 * Incremental backup chains through core, with the dirdelta test driver (the `incremental`
 * capability: an incremental backup keeps only the files changed since `ctx.previous`, a restore
 * applies `ctx.bases` first) and a real local directory store: backups and restores run through the
 * shipped state machines in process, or step by step where a step's refusal is the point. No
 * database server is needed.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nodeState, prepareBackup, snapshotNode, uploadNode, validateNode } from '../../../core/backup/backup-steps';
import { finalizeBackup } from '../../../core/backup/finalize';
import { manifestKey } from '../../../core/catalog/layout';
import type { BackupManifest } from '../../../core/catalog/manifest';
import { verifyBackup } from '../../../core/catalog/verification';
import type { DriverPlugin } from '../../../core/driver/types';
import { identityOf, isRunning } from '../../../core/host/process-identity';
import type { Logger } from '../../../core/logger';
import { deletePrefix } from '../../../core/store/blob-store';
import { readJson, writeJson } from '../../../core/store/json';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { killStarted, startSleep, until } from '../../unit/host/process-fixture';

// Plain CommonJS plugins, as a third party writes them.
const { plugin: dirdelta } = require('../../fixtures/plugins/incremental/dirdelta/index.js') as { plugin: DriverPlugin };
const { plugin: dirtree } = require('../../fixtures/plugins/good/dirtree/index.js') as { plugin: DriverPlugin };

let rt: TestRuntime;
let source: string;
let warnings: Array<{ message: string; extra?: Record<string, unknown> }>;

beforeEach(async () => {
  warnings = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, extra) => warnings.push({ message, extra }) };
  rt = await createTestRuntime({ logger });
  rt.deps.registry.register(dirdelta, 'test');
  rt.deps.registry.register(dirtree, 'test');
  source = path.join(rt.root, 'source');
  await writeTree({ 'a.txt': 'alpha', 'b.txt': 'bravo', 'nested/c.txt': 'charlie' });
});
afterEach(async () => {
  killStarted();
  await rt.dispose();
});

/** Writes `files` (relative path → content) under the source directory. */
async function writeTree(files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(source, name)), { recursive: true });
    await writeFile(path.join(source, name), content);
  }
}

/** Every file under `dir`, relative path → content. */
async function readTree(dir: string): Promise<Record<string, string>> {
  const tree: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) tree[path.relative(dir, path.join(entry.parentPath, entry.name))] = await readFile(path.join(entry.parentPath, entry.name), 'utf8');
  }
  return tree;
}

const request = (extra: Record<string, unknown> = {}) => ({ engine: 'dirdelta', instance: 'docs', config: { root: source }, ...extra });

const manifestOf = async (backupId: string): Promise<BackupManifest> => (await rt.catalog.get(backupId)).manifest;

/** A full backup, then two incremental ones, the source changing in between. */
async function chainOfThree() {
  const full = await rt.backup(request());
  await writeTree({ 'a.txt': 'alpha, changed', 'd.txt': 'delta' });
  const inc1 = await rt.backup(request({ incremental: true }));
  await rm(path.join(source, 'b.txt'));
  await writeTree({ 'nested/c.txt': 'charlie, changed' });
  const inc2 = await rt.backup(request({ incremental: true }));
  return { full, inc1, inc2 };
}

describe('an incremental chain', () => {
  it('extends the newest verified backup each time, and a restore of the last applies the whole chain in order', async () => {
    // Prepare
    const { full, inc1, inc2 } = await chainOfThree();
    const target = path.join(rt.root, 'restored');

    // Act
    const manifests = await Promise.all([full, inc1, inc2].map((b) => manifestOf(b.backupId)));
    const report = await rt.restore({ backupId: inc2.backupId, target: { dir: target } });

    // Assess: each driver was given the backup before it as ctx.previous
    expect(manifests.map((m) => m.consistency.previous)).toEqual([null, full.backupId, inc1.backupId]);
    expect(manifests.map((m) => m.extends)).toEqual([undefined, full.backupId, inc1.backupId]);
    expect(manifests.map((m) => m.artifacts.map((a) => a.name).sort())).toEqual([
      ['files/a.txt', 'files/b.txt', 'files/nested/c.txt'],
      ['files/a.txt', 'files/d.txt'],
      ['files/nested/c.txt'],
    ]);
    expect(manifests[2].facts.deleted).toEqual(['b.txt']);
    expect(full).not.toHaveProperty('extends');
    expect(inc1).toMatchObject({ extends: full.backupId, incremental: { requested: true, base: full.backupId, reason: expect.stringContaining('newest verified backup of dirdelta/docs') } });
    expect(inc2).toMatchObject({ extends: inc1.backupId, incremental: { base: inc1.backupId } });
    // ...and the restore was given bases = [full, inc1], then applied inc2 itself
    expect(report.endpoint.applied).toBe([full.backupId, inc1.backupId, inc2.backupId].join(','));
    expect(report.validation.ok).toBe(true);
    expect(await readTree(target)).toEqual(await readTree(source));
  });

  it('restores a full backup with no bases, and an incremental one with only the backups it rests on', async () => {
    // Prepare
    const { full, inc1 } = await chainOfThree();

    // Act
    const ofFull = await rt.restore({ backupId: full.backupId, target: { dir: path.join(rt.root, 'full') } });
    const ofInc1 = await rt.restore({ backupId: inc1.backupId, target: { dir: path.join(rt.root, 'inc1') } });

    // Assess
    expect(ofFull.endpoint.applied).toBe(full.backupId);
    expect(ofInc1.endpoint.applied).toBe(`${full.backupId},${inc1.backupId}`);
    expect(await readTree(path.join(rt.root, 'inc1'))).toEqual({ 'a.txt': 'alpha, changed', 'b.txt': 'bravo', 'd.txt': 'delta', 'nested/c.txt': 'charlie' });
  });

  it('becomes a full backup when the instance has no verified backup yet, and says why', async () => {
    // Act
    const summary = await rt.backup(request({ incremental: true }));

    // Assess
    const manifest = await manifestOf(summary.backupId);
    expect(summary).not.toHaveProperty('extends');
    expect(summary.incremental).toEqual({ requested: true, reason: 'no verified backup of dirdelta/docs yet: taking a full backup' });
    expect(manifest).not.toHaveProperty('extends');
    expect(manifest.consistency.previous).toBeNull();
    expect(manifest.artifacts).toHaveLength(3);
    expect(warnings).toEqual([expect.objectContaining({ message: 'incremental backup requested; taking a full backup' })]);
  });

  it('never extends a backup that failed its re-verification: the newest verified one is extended instead', async () => {
    // Prepare
    const good = await rt.backup(request());
    const bad = await rt.backup(request());
    const badEntry = await rt.catalog.get(bad.backupId);
    await writeFile(path.join(rt.storeDir, badEntry.manifest.artifacts[0].key), 'ALPHA');
    await verifyBackup(rt.store, badEntry.prefix, badEntry.manifest);

    // Act
    const summary = await rt.backup(request({ incremental: true }));

    // Assess
    expect(summary.extends).toBe(good.backupId);
  });

  it('is refused for a driver without the incremental capability, naming the engine, before anything is stored', async () => {
    // Act
    const refused = prepareBackup({ engine: 'dirtree', instance: 'docs', config: { root: source }, incremental: true }, rt.deps);

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'PermanentError', code: 'INCREMENTAL_UNSUPPORTED', message: expect.stringContaining("engine 'dirtree' does not take incremental backups") });
    expect(existsSync(rt.storeDir) ? await readdir(rt.storeDir) : []).toEqual([]);
  });
});

describe('the base of an incremental backup', () => {
  /** A full backup, and an incremental one prepared on it (its snapshot not taken yet). */
  async function preparedIncremental() {
    const full = await rt.backup(request());
    await writeTree({ 'a.txt': 'alpha, changed' });
    const state = await prepareBackup(request({ incremental: true }), rt.deps);
    return { full, state, baseKey: manifestKey((await rt.catalog.get(full.backupId)).prefix) };
  }

  it('is named in the state by its manifest\'s digest, and a manifest changed since prepare is refused at the snapshot', async () => {
    // Prepare
    const { full, state, baseKey } = await preparedIncremental();
    const manifest = await readJson<BackupManifest>(rt.store, baseKey);
    await writeJson(rt.store, baseKey, { ...manifest, facts: { ...manifest!.facts, files: {} } });

    // Act
    const snapshot = snapshotNode(nodeState(state, state.nodes[0]), rt.deps);

    // Assess
    expect(state.base).toEqual({ backupId: full.backupId, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await expect(snapshot).rejects.toMatchObject({ code: 'BASE_CHANGED', message: expect.stringContaining(`extends ${full.backupId}, whose manifest ${baseKey} changed since the backup started`) });
  });

  it('is refused at the snapshot when it is gone, and at finalize when it went after the snapshot', async () => {
    // Prepare
    const first = await preparedIncremental();
    const node = await uploadNode(await validateNode(await snapshotNode(nodeState(first.state, first.state.nodes[0]), rt.deps), rt.deps), rt.deps);
    const second = await prepareBackup(request({ incremental: true }), rt.deps);
    await deletePrefix(rt.store, `${(await rt.catalog.get(first.full.backupId)).prefix}/`);

    // Act
    const snapshot = snapshotNode(nodeState(second, second.nodes[0]), rt.deps);
    const finalize = finalizeBackup({ ...first.state, nodeResults: [node] }, rt.deps);

    // Assess
    await expect(snapshot).rejects.toMatchObject({ code: 'BASE_NOT_FOUND' });
    await expect(finalize).rejects.toMatchObject({ code: 'BASE_NOT_FOUND' });
    expect(await rt.store.head(manifestKey(first.state.prefix))).toBeUndefined();
  });

  it('is kept by a resumed backup, which continues against the base it started with', async () => {
    // Prepare: the incremental's CLI (a stand-in process) took the snapshot and was killed
    const full = await rt.backup(request());
    await writeTree({ 'a.txt': 'alpha, changed' });
    const cli = identityOf(await startSleep())!;
    const killed = await prepareBackup(request({ incremental: true }), { ...rt.deps, orchestrator: cli });
    await snapshotNode(nodeState(killed, killed.nodes[0]), { ...rt.deps, orchestrator: cli });
    process.kill(cli.pid, 'SIGKILL');
    await until(() => !isRunning(cli), 'the stand-in CLI to die');

    // Act: the next run is not even asked for an incremental backup
    const state = await prepareBackup(request(), rt.deps);
    const node = await uploadNode(await validateNode(await snapshotNode(nodeState(state, state.nodes[0]), rt.deps), rt.deps), rt.deps);
    const summary = await finalizeBackup({ ...state, nodeResults: [node] }, rt.deps);

    // Assess
    expect(state).toMatchObject({ backupId: killed.backupId, base: killed.base, resumeOutcome: { resumed: true } });
    expect(summary).toMatchObject({ extends: full.backupId, incremental: { requested: false, base: full.backupId } });
    expect((await manifestOf(summary.backupId)).extends).toBe(full.backupId);
  });
});

describe('a restore of a broken chain', () => {
  it.each([
    ['its full backup was deleted', async (full: string) => {
      await deletePrefix(rt.store, `${(await rt.catalog.get(full)).prefix}/`);
    }, /it extends \S+, which is not among the complete backups in the store/],
    ['an artifact of its full backup is missing', async (full: string) => {
      await rt.store.delete([(await rt.catalog.get(full)).manifest.artifacts[1].key]);
    }, /\S+, which it rests on, is damaged: \S+files\/b\.txt is missing/],
    ['its full backup failed its re-verification', async (full: string) => {
      const entry = await rt.catalog.get(full);
      await writeFile(path.join(rt.storeDir, entry.manifest.artifacts[0].key), 'ALPHA');
      await verifyBackup(rt.store, entry.prefix, entry.manifest);
    }, /it extends \S+, which failed its last verification/],
  ])('is refused with CHAIN_BROKEN before the target is touched when %s', async (_what, breakChain, reason) => {
    // Prepare
    const full = await rt.backup(request());
    await writeTree({ 'a.txt': 'alpha, changed' });
    const inc = await rt.backup(request({ incremental: true }));
    await breakChain(full.backupId);
    const target = path.join(rt.root, 'restored');

    // Act
    const restoring = rt.restore({ backupId: inc.backupId, target: { dir: target } });

    // Assess: refused by fetch manifest; no step reached the target (prepare would have made its directory)
    await expect(restoring).rejects.toMatchObject({ name: 'PermanentError', code: 'CHAIN_BROKEN', message: expect.stringMatching(reason) });
    await expect(restoring).rejects.toMatchObject({ message: expect.stringContaining(`the chain of backup ${inc.backupId} (dirdelta/docs) is broken`) });
    expect(existsSync(target)).toBe(false);
  });

  it('records found damage on the backup whose artifact changed, a base of the chain, not on the intact incremental restored', async () => {
    // Prepare: a byte of the full backup's b.txt (which only the full backup holds) changed in the store, its size kept
    const full = await rt.backup(request());
    await writeTree({ 'a.txt': 'alpha, changed' });
    const inc = await rt.backup(request({ incremental: true }));
    const changed = (await rt.catalog.get(full.backupId)).manifest.artifacts.find((a) => a.name.endsWith('b.txt'))!;
    await writeFile(path.join(rt.storeDir, changed.key), 'BRAVO');

    // Act
    const restoring = rt.restore({ backupId: inc.backupId, target: { dir: path.join(rt.root, 'restored') } });

    // Assess: the full backup is recorded damaged and named; the incremental is not, and is passed over as its chain is broken
    await expect(restoring).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    await expect(restoring).rejects.toThrow(`backup ${full.backupId}, which backup ${inc.backupId} extends, is damaged (${changed.name}): recorded CORRUPT`);
    const listed = await rt.catalog.list({ engine: 'dirdelta', instance: 'docs', includeIncomplete: true });
    expect(listed.find((b) => b.backupId === full.backupId)?.verification).toMatchObject({ ok: false, artifacts: [{ name: changed.name, damaged: true }] });
    expect(listed.find((b) => b.backupId === inc.backupId)?.verification).toBeUndefined();
    await expect(rt.restore({ backupId: inc.backupId, target: { dir: path.join(rt.root, 'again') } }))
      .rejects.toMatchObject({ code: 'CHAIN_BROKEN', message: expect.stringContaining(`it extends ${full.backupId}, which failed its last verification`) });
  });
});
