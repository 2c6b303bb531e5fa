import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Readable } from 'node:stream';
import path from 'node:path';
import { artifactSink } from '../../../core/driver/artifact-sink';
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import type { BackupContext, BackupDriver } from '../../../core/driver/types';
import { silentLogger } from '../../../core/logger';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';

describe('takeSnapshot', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'take-snapshot-')); });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('gives the driver an empty spool and wraps what it returns in the envelope core fills', async () => {
    // Prepare: what a killed attempt left in the spool
    const spoolDir = path.join(dir, 'spool');
    await mkdir(path.join(spoolDir, 'half'), { recursive: true });
    await writeFile(path.join(spoolDir, 'half', 'snapshot.db'), 'half-written');
    let seen: string[] = [];
    const driver = {
      async createSnapshot(ctx: BackupContext) {
        seen = await readdir(ctx.spoolDir);
        return { artifacts: [{ name: 'a', size: 1, sha256: 'f'.repeat(64) }], consistency: { revision: 3 }, facts: { keys: 1 } };
      },
    } as unknown as BackupDriver;
    const ctx: BackupContext = { backupId: 'b1', instance: 'main', logger: silentLogger, config: {}, node: { name: 'default' }, spoolDir };

    // Act
    const snapshot = await takeSnapshot('fake', driver, ctx, () => new Date('2026-12-02T00:00:00Z'));

    // Assess
    expect(seen).toEqual([]);
    expect(snapshot).toEqual({
      backupId: 'b1', engine: 'fake', instance: 'main', spoolDir, createdAt: '2026-12-02T00:00:00.000Z',
      artifacts: [{ name: 'a', size: 1, sha256: 'f'.repeat(64) }], consistency: { revision: 3 }, facts: { keys: 1 },
    });
  });

  it('persists what the driver wrote straight into the store, all of it at once, before it returns', async () => {
    // Prepare: a driver writing two artifacts into the store, one into the spool
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const persisted: string[][] = [];
    const persist = store.persist.bind(store);
    store.persist = async (keys) => {
      persisted.push([...keys]);
      await persist(keys);
    };
    const driver = {
      async createSnapshot(ctx: BackupContext) {
        const direct = artifactSink(ctx, true);
        const spooled = artifactSink(ctx, false);
        const artifacts = [await direct.write('t1/0.tsv', Readable.from(['one'])), await direct.write('t2/0.tsv', Readable.from(['two'])), await spooled.write('schema.sql', Readable.from(['s']))];
        expect(persisted).toEqual([]);
        return { artifacts, consistency: {}, facts: {} };
      },
    } as unknown as BackupDriver;
    const ctx: BackupContext = {
      backupId: 'b2', instance: 'main', logger: silentLogger, config: {}, node: { name: 'default' }, spoolDir: path.join(dir, 'spool'),
      destination: { store, prefix: 'backups/fake/main/b2/data/default' },
    };

    // Act
    await takeSnapshot('fake', driver, ctx);

    // Assess
    expect(persisted).toEqual([['backups/fake/main/b2/data/default/t1/0.tsv', 'backups/fake/main/b2/data/default/t2/0.tsv']]);
  });

  it('refuses a snapshot that wrote two artifacts under one name (the second replaced the first)', async () => {
    // Prepare
    const driver = {
      createSnapshot: async () => ({ artifacts: [{ name: 'data/t.0', size: 1, sha256: 'a'.repeat(64) }, { name: 'data/t.0', size: 1, sha256: 'b'.repeat(64) }], consistency: {}, facts: {} }),
    } as unknown as BackupDriver;
    const ctx: BackupContext = { backupId: 'b3', instance: 'main', logger: silentLogger, config: {}, node: { name: 'default' }, spoolDir: path.join(dir, 'spool') };

    // Act
    const error = await takeSnapshot('fake', driver, ctx).then(() => undefined, (e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'DUPLICATE_ARTIFACT', message: expect.stringContaining('two artifacts named data/t.0') });
  });
});
