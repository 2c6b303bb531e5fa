/**
 * `SpoolBackupDriver.upload` confirming artifacts a snapshot already put in the store: its own
 * node prefix and its instance's pool are accepted (and not sent again); any other key is refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { poolPrefix } from '../../../core/catalog/layout';
import { putPooled } from '../../../core/driver/pool-upload';
import { SpoolBackupDriver } from '../../../core/driver/spool-backup-driver';
import type { SnapshotRef, StoredArtifact } from '../../../core/driver/types';
import { silentLogger } from '../../../core/logger';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';

/** A driver whose snapshot is whatever the test says: only upload is under test. */
class GivenDriver extends SpoolBackupDriver<unknown> {
  async createSnapshot(): Promise<never> {
    throw new Error('not used');
  }

  async validateSnapshot() {
    return { ok: true, checks: [] };
  }
}

const NODE_PREFIX = 'backups/cassandra/a/20260101T000000000Z-abcdef/data/n1';
let dir: string;
let store: LocalDirectoryStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-spool-driver-'));
  store = new LocalDirectoryStore(path.join(dir, 'store'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Pools a file of `content` for instance `instance` the way a snapshot would. */
async function pooled(instance: string, content: string): Promise<StoredArtifact> {
  const file = path.join(dir, `${instance}-${content}`);
  await writeFile(file, content);
  return (await putPooled({ store, prefix: poolPrefix('cassandra', instance) }, file, `ks/t/${content}`, { spoolDir: path.join(dir, 'spool') })).artifact;
}

function upload(artifacts: StoredArtifact[]) {
  const snapshot: SnapshotRef = {
    backupId: '20260101T000000000Z-abcdef', engine: 'cassandra', instance: 'a', spoolDir: path.join(dir, 'spool'),
    artifacts, consistency: {}, facts: {}, createdAt: new Date().toISOString(),
  };
  const ctx = { backupId: snapshot.backupId, instance: 'a', logger: silentLogger, config: {}, node: { name: 'n1' }, spoolDir: snapshot.spoolDir };
  return new GivenDriver().upload(ctx, snapshot, { store, prefix: NODE_PREFIX });
}

describe('SpoolBackupDriver.upload', () => {
  it('confirms its own instance\'s pool objects without sending them', async () => {
    // Prepare
    const artifact = await pooled('a', 'Data.db bytes');

    // Act
    const result = await upload([artifact]);

    // Assess
    expect(result).toMatchObject({ artifacts: [artifact], bytes: artifact.size, sentBytes: 0 });
  });

  it('refuses another instance\'s pool object, and a pool key that is not the artifact\'s sha256', async () => {
    // Prepare
    const foreign = await pooled('ab', 'Data.db bytes');
    const own = await pooled('a', 'Index.db bytes');
    const misnamed = { ...own, sha256: foreign.sha256 };

    // Act + Assess
    for (const artifact of [foreign, misnamed]) {
      await expect(upload([artifact])).rejects.toMatchObject({
        name: 'PermanentError', code: 'INVALID_PATH',
        message: expect.stringContaining(`outside this node's prefix ${NODE_PREFIX}/ and not its sha256's object in the pool of cassandra/a`),
      });
    }
  });
});
