/**
 * The artifacts a MySQL backup's facts name (`recordSchemas.artifactsNamed`), and what `verify`
 * makes of a manifest that lost one: every artifact it lists may be intact, and still a restore
 * would refuse it, so the verification fails and `latest` passes over it.
 */
import { Catalog } from '../../../core/catalog/catalog';
import { unlistedArtifacts } from '../../../core/catalog/backup-record';
import type { BackupManifest } from '../../../core/catalog/manifest';
import { verifyBackup } from '../../../core/catalog/verification';
import { DriverRegistry } from '../../../core/driver/registry';
import type { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { plugin as mysql } from '../../../drivers/mysql';
import { artifactsNamedBy, binlogArtifact, chunkArtifact, PHYSICAL_ARTIFACT, schemaArtifact, USERS_ARTIFACT, type MysqlFacts } from '../../../drivers/mysql/shared/layout';
import { storeBackup } from '../../fixtures/catalog/stored-backup';
import { makeTempStore, removeDir } from '../../fixtures/store/files';

const table = (name: string, chunks: string[]): MysqlFacts['tables'][number] => ({ database: 'shop', table: name, engine: 'InnoDB', rows: 1, digest: 'd', chunks });
const logical: MysqlFacts = {
  mode: 'logical',
  databases: ['shop'],
  schema: [{ database: 'shop', pre: schemaArtifact('shop'), post: 'schema/shop.post.sql' }],
  users: USERS_ARTIFACT,
  tables: [table('orders', [chunkArtifact('shop', 'orders', 0), chunkArtifact('shop', 'orders', 1)]), table('empty', [])],
  binlogs: ['binlog.000007'],
};

/** A manifest of `facts` listing the artifacts `names` (one node, or under `node`'s name). */
const manifestOf = (facts: MysqlFacts, names: string[], node?: string): BackupManifest => ({
  formatVersion: 2, backupId: 'b', engine: 'mysql', instance: 'shop', driver: { name: 'mysql', version: '1.0.0' },
  startedAt: '2026-01-01T00:00:00.000Z', completedAt: '2026-01-01T00:00:01.000Z',
  consistency: node ? { nodes: { [node]: { flavor: 'mariadb' } } } : { flavor: 'mariadb' },
  facts: node ? { nodes: { [node]: facts } } : facts,
  artifacts: names.map((name) => ({ name, key: `k/${name}`, size: 1, sha256: '0'.repeat(64) })),
  bytes: names.length, validation: { ok: true, checks: [] },
} as BackupManifest);

describe('the artifacts a MySQL backup\'s facts name', () => {
  const registry = new DriverRegistry();
  registry.register(mysql);

  it('are its schema files, the users\', every table\'s chunks and its archived binlogs; a physical copy\'s stream', () => {
    expect(artifactsNamedBy({ facts: logical }).sort()).toEqual([
      'binlog/binlog%2E000007', 'data/shop/orders.000000.tsv.zst', 'data/shop/orders.000001.tsv.zst', 'schema/shop.post.sql', 'schema/shop.sql', 'schema/users.sql',
    ]);
    expect(binlogArtifact('binlog.000007')).toBe('binlog/binlog%2E000007');
    expect(artifactsNamedBy({ facts: { ...logical, mode: 'physical', schema: [], users: undefined, binlogs: undefined } })).toEqual([PHYSICAL_ARTIFACT, ...logical.tables[0].chunks]);
    expect(artifactsNamedBy({ facts: { mode: 'nonsense' } })).toEqual([]); // checking the record says what is wrong with it
  });

  it('are each found in the manifest, or named as unlisted (under the node\'s name in a manifest of several)', () => {
    const all = artifactsNamedBy({ facts: logical });
    const lost = chunkArtifact('shop', 'orders', 1);

    expect(unlistedArtifacts(registry, manifestOf(logical, all))).toEqual([]);
    expect(unlistedArtifacts(registry, manifestOf(logical, all.filter((name) => name !== lost)))).toEqual([lost]);
    expect(unlistedArtifacts(registry, manifestOf(logical, all.map((name) => `db1/${name}`), 'db1'))).toEqual([]);
    expect(unlistedArtifacts(registry, manifestOf(logical, all.filter((name) => name !== lost).map((name) => `db1/${name}`), 'db1'))).toEqual([`db1/${lost}`]);
    // An engine whose driver is not registered here (an external plugin not installed): verified by its bytes alone.
    expect(unlistedArtifacts(new DriverRegistry(), manifestOf(logical, []))).toEqual([]);
  });
});

describe('verify, given artifacts the facts name that the manifest lacks', () => {
  let root: string;
  let store: LocalDirectoryStore;
  beforeEach(async () => ({ root, store } = await makeTempStore('unlisted')));
  afterEach(() => removeDir(root));

  it('fails the backup, naming each, though every listed artifact is intact; latest passes over it', async () => {
    // Prepare
    const good = await storeBackup(store, { at: new Date(Date.now() - 2 * 86_400_000) });
    const edited = await storeBackup(store, { at: new Date(Date.now() - 86_400_000) });

    // Act
    const record = await verifyBackup(store, edited.prefix, edited.manifest, { unlisted: ['data/shop/lost.000000.tsv.zst'] });
    const latest = await new Catalog(store).get('latest', { engine: 'etcd', instance: 'main', restorable: true });

    // Assess
    expect(record.ok).toBe(false);
    expect(record.artifacts).toEqual([
      { name: 'snapshot.db', ok: true },
      { name: 'data/shop/lost.000000.tsv.zst', ok: false, detail: expect.stringMatching(/^the backup's facts name it, but its manifest does not list it/), damaged: true },
    ]);
    expect(latest.backupId).toBe(good.backupId);
    expect(latest.passedOver?.map((p) => p.backupId)).toEqual([edited.backupId]);
  });
});
