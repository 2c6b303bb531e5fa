/**
 * Loads the real example plugins under test/fixtures/plugins: plain CommonJS folders, as a third
 * party would ship them, verified by sha256 before they are required.
 */
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { loadPlugins } from '../../../core/driver/plugin-loader';
import { DriverRegistry } from '../../../core/driver/registry';
import { DRIVER_API_VERSION, type BackupRecord, type SnapshotRef } from '../../../core/driver/types';
import { PermanentError } from '../../../core/errors';
import { silentLogger } from '../../../core/logger';
import type { BlobStore, PutResult } from '../../../core/store/blob-store';
import { tempDir } from '../../harness/test-run';

const FIXTURES = path.resolve(__dirname, '../../fixtures/plugins');
const DIRTREE_ENTRY = path.join(FIXTURES, 'good/dirtree/index.js');

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

async function refusal(promise: Promise<unknown>): Promise<PermanentError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PermanentError) return error;
    throw error;
  }
  throw new Error('expected the plugin to be refused');
}

/** An in-memory store with the two calls a driver's transfer steps make, checking sha256 like the real ones. */
function memoryStore(): BlobStore & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  const hash = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const unused = async (): Promise<never> => { throw new Error('not used by these tests'); };
  return {
    url: 'memory://',
    objects,
    async putFile(key, filePath, options): Promise<PutResult> {
      const data = await readFile(filePath);
      if (options.expectedSha256 && hash(data) !== options.expectedSha256) throw new Error(`checksum mismatch for ${key}`);
      objects.set(key, data);
      return { key, size: data.length, sha256: hash(data) };
    },
    async getFile(key, filePath, options): Promise<PutResult> {
      const data = objects.get(key);
      if (!data) throw new PermanentError(`${key} not found`, { code: 'NOT_FOUND' });
      if (options?.expectedSha256 && hash(data) !== options.expectedSha256) throw new Error(`checksum mismatch for ${key}`);
      await writeFile(filePath, data);
      return { key, size: data.length, sha256: hash(data) };
    },
    put: unused,
    get: async () => Readable.from([]),
    head: async () => undefined,
    list: async function* () { /* empty */ },
    delete: unused,
  };
}

describe('loadPlugins with the example plugins', () => {
  let work: string;

  beforeEach(async () => {
    work = await tempDir('plugins');
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('loads a pinned plugin, skips folders without the marker, and its drivers back up and restore a real directory', async () => {
    // Prepare
    const registry = new DriverRegistry();
    const pin = await sha256Of(DIRTREE_ENTRY);
    const source = path.join(work, 'source');
    await mkdir(path.join(source, 'nested/deeper'), { recursive: true });
    await writeFile(path.join(source, 'a.txt'), 'alpha\n');
    await writeFile(path.join(source, 'nested/b.bin'), Buffer.alloc(70_000, 7));
    await writeFile(path.join(source, 'nested/deeper/c.json'), '{"c":3}');
    const store = memoryStore();

    // Act
    const loaded = await loadPlugins(registry, { pluginPaths: [path.join(FIXTURES, 'good')], pins: { dirtree: pin } });
    const config = registry.parseConfig<{ root: string }>('dirtree', { root: source });
    const ctx = { backupId: 'b1', instance: 'docs', logger: silentLogger, node: { name: 'default' }, config, spoolDir: path.join(work, 'spool') };
    const backup = registry.backupDriver('dirtree');
    const snapshot = await takeSnapshot('dirtree', backup, ctx);
    const report = await backup.validateSnapshot(ctx, snapshot);
    const uploaded = await backup.upload(ctx, snapshot, { store, prefix: 'dirtree/docs/b1/data/default' });
    await backup.cleanup(ctx, snapshot);
    const record: BackupRecord = { ...snapshot, artifacts: uploaded.artifacts };
    const target = registry.parseRestoreTarget<{ dir: string }>('dirtree', { dir: path.join(work, 'restored') });
    const rctx = { backupId: 'b1', instance: 'docs', logger: silentLogger, backup: record, target, spoolDir: path.join(work, 'rspool'), force: false, restoreId: 'r1', node: { name: 'default' } };
    const restorer = registry.restoreDriver('dirtree');
    const prepared = await restorer.prepareTarget(rctx);
    const restored = await restorer.restore(rctx, prepared, { store, prefix: 'dirtree/docs/b1/data/default' });
    const proof = await restorer.validateRestore(rctx, restored);

    // Assess
    expect(loaded).toEqual([{ engine: 'dirtree', packageName: 'dirtree', entry: DIRTREE_ENTRY, sha256: pin, pinned: true }]);
    expect(registry.list().map((d) => [d.name, d.source])).toEqual([['dirtree', DIRTREE_ENTRY]]);
    expect(snapshot.artifacts.map((a) => a.name)).toEqual(['files/a.txt', 'files/nested/b.bin', 'files/nested/deeper/c.json']);
    expect(snapshot.artifacts[1]).toEqual({
      name: 'files/nested/b.bin', size: 70_000, sha256: createHash('sha256').update(Buffer.alloc(70_000, 7)).digest('hex'),
    });
    expect(report.ok).toBe(true);
    expect([...store.objects.keys()]).toEqual([
      'dirtree/docs/b1/data/default/files/a.txt', 'dirtree/docs/b1/data/default/files/nested/b.bin',
      'dirtree/docs/b1/data/default/files/nested/deeper/c.json',
    ]);
    expect(uploaded.bytes).toBe(6 + 70_000 + 7);
    expect(proof.ok).toBe(true);
    expect(await readFile(path.join(work, 'restored/nested/deeper/c.json'), 'utf8')).toBe('{"c":3}');
    expect(await readFile(path.join(work, 'restored/nested/b.bin'))).toEqual(Buffer.alloc(70_000, 7));
  });

  it("runs the plugin's own checks: a tampered spool fails validation and a non-empty target is refused", async () => {
    // Prepare
    const registry = new DriverRegistry();
    await loadPlugins(registry, { pluginPaths: [path.join(FIXTURES, 'good')], pins: { dirtree: await sha256Of(DIRTREE_ENTRY) } });
    const source = path.join(work, 'source');
    await mkdir(source);
    await writeFile(path.join(source, 'x.txt'), 'original');
    const ctx = { backupId: 'b2', instance: 'docs', logger: silentLogger, node: { name: 'default' }, config: { root: source }, spoolDir: path.join(work, 'spool') };
    const occupied = path.join(work, 'occupied');
    await mkdir(occupied);
    await writeFile(path.join(occupied, 'keep.txt'), 'mine');
    const backup = registry.backupDriver('dirtree');

    // Act
    const snapshot: SnapshotRef = await takeSnapshot('dirtree', backup, ctx);
    await writeFile(path.join(ctx.spoolDir, 'files/x.txt'), 'tampered');
    const report = await backup.validateSnapshot(ctx, snapshot);
    const refused = registry.restoreDriver('dirtree').prepareTarget({
      backupId: 'b2', instance: 'docs', logger: silentLogger, spoolDir: path.join(work, 'rspool'), force: false, restoreId: 'r2', node: { name: 'default' },
      backup: { ...snapshot, artifacts: [] }, target: { dir: occupied },
    });

    // Assess
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'sha256 files/x.txt')?.ok).toBe(false);
    await expect(refused).rejects.toMatchObject({ name: 'PermanentError', code: 'TARGET_NOT_EMPTY' });
    expect(await readFile(path.join(occupied, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('validates config with the plugin\'s own zod-free schema and names the engine', async () => {
    // Prepare
    const registry = new DriverRegistry();
    await loadPlugins(registry, { pluginPaths: [path.join(FIXTURES, 'good')], pins: { dirtree: await sha256Of(DIRTREE_ENTRY) } });

    // Act
    const error = await refusal(Promise.resolve().then(() => registry.parseConfig('dirtree', { root: 'relative/dir' })));

    // Assess
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toBe("invalid config for engine 'dirtree': root must be an absolute directory path");
  });

  it('refuses a plugin whose entry does not match its pin, naming the file and both hashes', async () => {
    // Prepare
    const registry = new DriverRegistry();
    const wrong = '0'.repeat(64);
    const actual = await sha256Of(DIRTREE_ENTRY);

    // Act
    const error = await refusal(loadPlugins(registry, { pluginPaths: [path.join(FIXTURES, 'good')], pins: { dirtree: wrong } }));

    // Assess
    expect(error.code).toBe('PLUGIN_INTEGRITY');
    expect(error.message).toContain(DIRTREE_ENTRY);
    expect(error.message).toContain(wrong);
    expect(error.message).toContain(actual);
    expect(registry.list()).toEqual([]);
  });

  it('refuses a pin mismatch even when unpinned plugins are allowed', async () => {
    // Prepare
    const registry = new DriverRegistry();

    // Act
    const error = await refusal(loadPlugins(registry, {
      pluginPaths: [path.join(FIXTURES, 'good')], pins: { dirtree: 'f'.repeat(64) }, allowUnpinned: true,
    }));

    // Assess
    expect(error.code).toBe('PLUGIN_INTEGRITY');
  });

  it('refuses an unpinned plugin and says how to pin it', async () => {
    // Prepare
    const registry = new DriverRegistry();
    const actual = await sha256Of(DIRTREE_ENTRY);

    // Act
    const error = await refusal(loadPlugins(registry, { pluginPaths: [path.join(FIXTURES, 'good')], pins: {} }));

    // Assess
    expect(error.code).toBe('PLUGIN_NOT_PINNED');
    expect(error.message).toContain(`DBBACKUP_PLUGIN_PINS='dirtree=${actual}'`);
    expect(registry.has('dirtree')).toBe(false);
  });

  it('loads an unpinned plugin when allowed, and says so', async () => {
    // Prepare
    const registry = new DriverRegistry();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => { warnings.push(message); } };

    // Act
    const loaded = await loadPlugins(registry, { pluginPaths: [path.join(FIXTURES, 'good')], pins: {}, allowUnpinned: true, logger });

    // Assess
    expect(loaded.map((p) => [p.engine, p.pinned])).toEqual([['dirtree', false]]);
    expect(registry.has('dirtree')).toBe(true);
    expect(warnings).toEqual(['loading an unpinned driver plugin']);
  });

  it('refuses a plugin built for another driver API version', async () => {
    // Prepare
    const registry = new DriverRegistry();
    const entry = path.join(FIXTURES, 'future-api/future-engine/index.js');

    // Act
    const error = await refusal(loadPlugins(registry, {
      pluginPaths: [path.join(FIXTURES, 'future-api')], pins: { 'future-engine': await sha256Of(entry) },
    }));

    // Assess
    expect(error.code).toBe('INCOMPATIBLE_API');
    expect(error.message).toContain("'future-engine'");
    expect(error.message).toContain('version 99');
    expect(error.message).toContain(entry);
  });

  it('refuses a plugin with a bad manifest, listing what is wrong', async () => {
    // Prepare
    const registry = new DriverRegistry();
    const entry = path.join(FIXTURES, 'bad-manifest/broken/index.js');

    // Act
    const error = await refusal(loadPlugins(registry, {
      pluginPaths: [path.join(FIXTURES, 'bad-manifest')], pins: { broken: await sha256Of(entry) },
    }));

    // Assess
    expect(error.code).toBe('INVALID_MANIFEST');
    expect(error.message).toContain(entry);
    expect(error.message).toContain('manifest.name');
    expect(error.message).toContain('manifest.version');
    expect(error.message).toContain('manifest.configSchema');
  });

  it('refuses a plugin that claims an engine name already registered (default export)', async () => {
    // Prepare
    const registry = new DriverRegistry();
    const accept = { safeParse: (data: unknown) => ({ success: true as const, data }) };
    registry.register({ manifest: { name: 'etcd', version: '1.0.0', apiVersion: DRIVER_API_VERSION, capabilities: [], configSchema: accept, restoreTargetSchema: accept } });
    const entry = path.join(FIXTURES, 'duplicate/etcd-copy/index.js');

    // Act
    const error = await refusal(loadPlugins(registry, {
      pluginPaths: [path.join(FIXTURES, 'duplicate')], pins: { 'etcd-copy': await sha256Of(entry) },
    }));

    // Assess
    expect(error.code).toBe('DUPLICATE_DRIVER');
    expect(error.message).toContain('built-in');
    expect(error.message).toContain(entry);
  });

  it('fails clearly when a plugin path does not exist, but not for an optional one', async () => {
    // Prepare
    const missing = path.join(work, 'no-such-dir');

    // Act
    const error = await refusal(loadPlugins(new DriverRegistry(), { pluginPaths: [missing], pins: {} }));
    const none = await loadPlugins(new DriverRegistry(), { pluginPaths: [], optionalPluginPaths: [missing], pins: {} });

    // Assess
    expect(error.code).toBe('PLUGIN_PATH_MISSING');
    expect(error.message).toContain(missing);
    expect(none).toEqual([]);
  });
});
