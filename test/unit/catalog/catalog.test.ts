/**
 * The catalog against a real local directory store: what counts as complete, `latest`,
 * verification of stored artifacts, and retention.
 */
import { rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Catalog } from '../../../core/catalog/catalog';
import { newBackupId } from '../../../core/catalog/layout';
import { writeDrill } from '../../../core/catalog/drill-record';
import { contentDigest } from '../../../core/catalog/manifest';
import { missingArtifacts, servesWhole } from '../../../core/catalog/missing-artifacts';
import { prune } from '../../../core/catalog/prune';
import { provenDamage, recordFoundDamage, verifyBackup } from '../../../core/catalog/verification';
import { TransientError } from '../../../core/errors';
import type { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { storeBackup as storeBackupIn, type StoredBackup, type StoredBackupOptions } from '../../fixtures/catalog/stored-backup';
import { makeTempStore, removeDir } from '../../fixtures/store/files';

const DAY = 86_400_000;
let root: string;
let store: LocalDirectoryStore;

beforeEach(async () => ({ root, store } = await makeTempStore('catalog')));
afterEach(() => removeDir(root));

/** Stores one backup (see the fixture) in this test's store. */
const storeBackup = (options: StoredBackupOptions): Promise<StoredBackup> => storeBackupIn(store, options);

describe('Catalog', () => {
  it('lists only backups with a manifest, newest first, unless incomplete ones are asked for', async () => {
    // Prepare
    const now = Date.now();
    const old = await storeBackup({ at: new Date(now - 2 * DAY) });
    const recent = await storeBackup({ at: new Date(now - DAY) });
    const crashed = await storeBackup({ at: new Date(now - 1000), complete: false });

    // Act
    const complete = await new Catalog(store).list();
    const all = await new Catalog(store).list({ includeIncomplete: true });

    // Assess
    expect(complete.map((e) => e.backupId)).toEqual([recent.backupId, old.backupId]);
    expect(all.map((e) => [e.backupId, e.complete])).toEqual([[crashed.backupId, false], [recent.backupId, true], [old.backupId, true]]);
  });

  it('reads the records of several backups at once', async () => {
    // Prepare: a store whose manifest reads each wait (up to 5 s) for a third to begin
    const now = Date.now();
    for (let i = 3; i >= 1; i -= 1) await storeBackup({ at: new Date(now - i * DAY) });
    let inFlight = 0;
    let peak = 0;
    let thirdBegan!: () => void;
    const third = new Promise<void>((resolve) => { thirdBegan = resolve; });
    const slow = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'get') return Reflect.get(target, property, receiver);
        return async (key: string, options?: Parameters<typeof store.get>[1]) => {
          if (!key.endsWith('/manifest.json')) return target.get(key, options);
          peak = Math.max(peak, inFlight += 1);
          if (inFlight === 3) thirdBegan();
          await Promise.race([third, new Promise((resolve) => { setTimeout(resolve, 5_000).unref(); })]);
          try {
            return await target.get(key, options);
          } finally {
            inFlight -= 1;
          }
        };
      },
    });

    // Act
    const entries = await new Catalog(slow).list();

    // Assess
    expect(entries).toHaveLength(3);
    expect(peak).toBe(3);
  });

  it('filters by engine and instance', async () => {
    // Prepare
    await storeBackup({ at: new Date(), instance: 'a' });
    const b = await storeBackup({ at: new Date(), instance: 'b' });
    await storeBackup({ at: new Date(), engine: 'mysql', instance: 'b' });

    // Act
    const entries = await new Catalog(store).list({ engine: 'etcd', instance: 'b' });

    // Assess
    expect(entries.map((e) => e.backupId)).toEqual([b.backupId]);
  });

  it('asks which instance `latest` means when the filter leaves several, and takes the only one without asking', async () => {
    // Prepare: two instances; the newest backup is mysql/b's
    const now = Date.now();
    const a = await storeBackup({ at: new Date(now - 2 * DAY), instance: 'a' });
    const b = await storeBackup({ at: new Date(now - DAY), engine: 'mysql', instance: 'b' });
    const catalog = new Catalog(store);

    // Act
    const unnamed = await catalog.find('latest').then(() => undefined, (e: Error) => e);
    const engineOnly = await catalog.find('latest', { engine: 'etcd' });
    const named = await catalog.get('latest', { engine: 'mysql', instance: 'b' });

    // Assess
    expect(unnamed).toMatchObject({ code: 'BACKUP_AMBIGUOUS', message: expect.stringContaining('holds backups of etcd/a, mysql/b: say which with --engine and --instance') });
    expect(engineOnly.backupId).toBe(a.backupId); // one instance of that engine: no doubt
    expect(named.backupId).toBe(b.backupId);
  });

  it('resolves latest to the newest verified backup, skipping failed validations and failed verifications', async () => {
    // Prepare
    const now = Date.now();
    const good = await storeBackup({ at: new Date(now - 3 * DAY) });
    const corrupt = await storeBackup({ at: new Date(now - 2 * DAY) });
    await storeBackup({ at: new Date(now - DAY), validationOk: false });
    await writeFile(path.join(root, corrupt.manifest.artifacts[0].key), 'tampered');
    await verifyBackup(store, corrupt.prefix, corrupt.manifest);

    // Act
    const latest = await new Catalog(store).get('latest', { engine: 'etcd', instance: 'main' });

    // Assess
    expect(latest.backupId).toBe(good.backupId);
  });

  it('passes a restore\'s latest over incremental backups whose chain is broken, to the newest backup that can be restored, saying why', async () => {
    // Prepare: a good full backup; later a full one found corrupt, with two incrementals on it
    const now = Date.now();
    const good = await storeBackup({ at: new Date(now - 4 * DAY) });
    const corrupt = await storeBackup({ at: new Date(now - 3 * DAY) });
    const first = await storeBackup({ at: new Date(now - 2 * DAY), extends: corrupt.backupId });
    const second = await storeBackup({ at: new Date(now - DAY), extends: first.backupId });
    await writeFile(path.join(root, corrupt.manifest.artifacts[0].key), 'tampered');
    await verifyBackup(store, corrupt.prefix, corrupt.manifest);

    // Act
    const latest = await new Catalog(store).get('latest', { engine: 'etcd', instance: 'main', restorable: true }); // as a restore asks
    const shown = await new Catalog(store).get('latest', { engine: 'etcd', instance: 'main' }); // as show and verify ask

    // Assess
    expect(latest.backupId).toBe(good.backupId);
    expect(shown.backupId).toBe(second.backupId);
    expect(latest.passedOver?.map((p) => p.backupId)).toEqual([second.backupId, first.backupId, corrupt.backupId]);
    expect(latest.passedOver?.[0].why).toMatch(new RegExp(`^rests on a broken chain \\(the chain of backup ${second.backupId} .* extends ${corrupt.backupId}, which failed its last`));
  });

  it('names the problem for a missing or incomplete backup', async () => {
    // Prepare
    const crashed = await storeBackup({ at: new Date(), complete: false });
    const catalog = new Catalog(store);

    // Act + Assess
    await expect(catalog.get('20200101T000000Z-000000')).rejects.toMatchObject({ name: 'PermanentError', code: 'BACKUP_NOT_FOUND' });
    await expect(catalog.get(crashed.backupId)).rejects.toMatchObject({ code: 'BACKUP_INCOMPLETE' });
    await expect(catalog.get('latest', { engine: 'etcd', instance: 'nothing' })).rejects.toMatchObject({ code: 'BACKUP_NOT_FOUND' });
  });

  it('names what the store holds when a filter matches no backup at all (a mistyped instance or engine), and where an id is when the filter misses it', async () => {
    // Prepare
    const main = await storeBackup({ at: new Date(), instance: 'shop-main' });
    await storeBackup({ at: new Date(), instance: 'edge' });
    const catalog = new Catalog(store);

    // Act
    const typoInstance = await catalog.get('latest', { engine: 'etcd', instance: 'shop-mian' }).then(() => undefined, (e: Error) => e);
    const typoEngine = await catalog.get('latest', { engine: 'etdc', instance: 'shop-main' }).then(() => undefined, (e: Error) => e);
    const otherEngine = await catalog.get(main.backupId, { engine: 'mysql' }).then(() => undefined, (e: Error) => e);

    // Assess
    expect(typoInstance).toMatchObject({ code: 'BACKUP_NOT_FOUND', message: `no backups of etcd/shop-mian in ${store.url} (its etcd instances: edge, shop-main)` });
    expect(typoEngine).toMatchObject({ code: 'BACKUP_NOT_FOUND', message: `no backups of etdc/shop-main in ${store.url} (its engines: etcd)` });
    expect(otherEngine).toMatchObject({ code: 'BACKUP_NOT_FOUND', message: `backup ${main.backupId} not found under mysql in ${store.url} (it is under etcd/shop-main)` });
  });

  it('says why the newest backup is not `latest` when none is', async () => {
    // Prepare: the instance's only backup verified corrupt
    const corrupt = await storeBackup({ at: new Date(), instance: 'corrupt' });
    await writeFile(path.join(root, corrupt.manifest.artifacts[0].key), 'tampered');
    await verifyBackup(store, corrupt.prefix, corrupt.manifest);

    // Act
    const error = await new Catalog(store).get('latest', { engine: 'etcd', instance: 'corrupt' }).then(() => undefined, (e: Error) => e);

    // Assess
    expect(error).toMatchObject({ code: 'BACKUP_NOT_FOUND', message: expect.stringContaining(`no verified backup found for etcd/corrupt in ${store.url}; the newest, ${corrupt.backupId} (etcd/corrupt), failed re-verification (CORRUPT) at `) });
  });

});

describe('backup ids', () => {
  it('sort in creation order to the millisecond, so backups taken in the same second keep their order', () => {
    const ids = [0, 1, 999].map((ms) => newBackupId(new Date(Date.UTC(2026, 10, 21, 11, 22, 33, ms))));
    expect([...ids].reverse().sort()).toEqual(ids);
  });
});

describe('verifyBackup', () => {
  it('re-hashes every artifact and records the result next to the manifest', async () => {
    // Prepare
    const backup = await storeBackup({ at: new Date() });

    // Act
    const ok = await verifyBackup(store, backup.prefix, backup.manifest);
    await writeFile(path.join(root, backup.manifest.artifacts[0].key), 'flipped');
    const bad = await verifyBackup(store, backup.prefix, backup.manifest);
    const [entry] = await new Catalog(store).list();

    // Assess
    expect(ok.ok).toBe(true);
    expect(bad.ok).toBe(false);
    expect(bad.artifacts[0].detail).toMatch(/expected \d+ bytes sha256/);
    expect(bad.artifacts[0].damaged).toBe(true);
    expect(provenDamage(bad)).toBe(`snapshot.db was found damaged at ${bad.verifiedAt}: ${bad.artifacts[0].detail}`);
    expect(provenDamage(ok)).toBeUndefined();
    expect(entry.verification?.ok).toBe(false);
  });

  it('reports a missing artifact instead of throwing', async () => {
    // Prepare
    const backup = await storeBackup({ at: new Date() });
    await store.delete([backup.manifest.artifacts[0].key]);

    // Act
    const record = await verifyBackup(store, backup.prefix, backup.manifest);

    // Assess
    expect(record.ok).toBe(false);
    expect(record.artifacts[0]).toMatchObject({ detail: expect.stringContaining('not found'), damaged: true });
  });

  it('records the damage a restore found as verify would: the artifact named by its object key or its name, none for a message naming none', async () => {
    // Prepare
    const backup = await storeBackup({ at: new Date() });
    const [artifact] = backup.manifest.artifacts;

    // Act
    const byKey = await recordFoundDamage(store, backup.prefix, backup.manifest, `object ${artifact.key} does not match its checksum (expected sha256 aa, got bb)`, 'restore r1');
    const [entry] = await new Catalog(store).list();
    const byName = await recordFoundDamage(store, backup.prefix, backup.manifest, `artifact ${backup.backupId}/${artifact.name} (as stored) does not match its checksum`, 'restore r2');
    const none = await recordFoundDamage(store, backup.prefix, backup.manifest, 'object backups/other/x does not match its checksum', 'restore r3');

    // Assess
    expect([byKey, byName, none]).toEqual(['snapshot.db', 'snapshot.db', undefined]);
    expect(entry.verification).toMatchObject({ ok: false, artifacts: [{ name: 'snapshot.db', ok: false, damaged: true, detail: expect.stringMatching(/^restore r1 found its bytes changed: object /) }] });
    expect(provenDamage(entry.verification!)).toMatch(/^snapshot\.db was found damaged at /);
  });

  it('fails an artifact the store could not read this time, without calling it damaged (a restore need not be refused for it)', async () => {
    // Prepare
    const backup = await storeBackup({ at: new Date() });
    const unreachable = Object.assign(Object.create(store) as LocalDirectoryStore, {
      get: async () => { throw new TransientError('S3 endpoint http://s3.example unavailable for get (ECONNRESET)', { code: 'S3_UNAVAILABLE' }); },
    });

    // Act
    const record = await verifyBackup(unreachable, backup.prefix, backup.manifest);

    // Assess
    expect(record.ok).toBe(false);
    expect(record.artifacts[0]).toEqual({ name: 'snapshot.db', ok: false, detail: expect.stringContaining('unavailable') });
    expect(provenDamage(record)).toBeUndefined();
  });
});

describe('prune', () => {
  it('is a dry run by default and deletes only with apply', async () => {
    // Prepare
    const now = Date.now();
    const backups = [];
    for (let i = 5; i >= 1; i -= 1) backups.push(await storeBackup({ at: new Date(now - i * DAY) }));
    const catalog = new Catalog(store);

    // Act
    const dry = await prune(catalog, store, { keepLast: 2 });
    const afterDry = await catalog.list();
    await prune(catalog, store, { keepLast: 2, apply: true });
    const afterApply = await catalog.list({ includeIncomplete: true });

    // Assess
    expect(dry.filter((d) => d.action === 'delete')).toHaveLength(3);
    expect(afterDry).toHaveLength(5);
    expect(afterApply.map((e) => e.backupId)).toEqual([backups[4].backupId, backups[3].backupId]);
  });

  it('keeps what either rule keeps: the newest N or anything younger than max age', async () => {
    // Prepare
    const now = new Date();
    const ages = [40, 20, 10, 1];
    const backups = [];
    for (const age of ages) backups.push(await storeBackup({ at: new Date(now.getTime() - age * DAY) }));

    // Act
    const decisions = await prune(new Catalog(store), store, { keepLast: 1, maxAgeMs: 15 * DAY, now });

    // Assess
    const byId = Object.fromEntries(decisions.map((d) => [d.entry.backupId, d.action]));
    expect(byId).toEqual({
      [backups[0].backupId]: 'delete',
      [backups[1].backupId]: 'delete',
      [backups[2].backupId]: 'keep',
      [backups[3].backupId]: 'keep',
    });
  });

  it('never deletes the newest verified backup, even when every rule would', async () => {
    // Prepare
    const now = new Date();
    const verified = await storeBackup({ at: new Date(now.getTime() - 30 * DAY) });
    const broken = await storeBackup({ at: new Date(now.getTime() - 20 * DAY), validationOk: false });

    // Act
    const decisions = await prune(new Catalog(store), store, { keepLast: 1, maxAgeMs: DAY, now, apply: true });
    const left = await new Catalog(store).list();

    // Assess
    expect(decisions.find((d) => d.entry.backupId === verified.backupId)?.reason).toBe('newest complete backup that passed its validation');
    expect(left.map((e) => e.backupId)).toEqual([broken.backupId, verified.backupId]);
  });

  it('never deletes the newest backup restore latest takes, when a drill failed to restore every newer one', async () => {
    // Prepare: the newest backup passed its validation, but a drill of it failed (a truncated artifact, say)
    const now = new Date();
    const intact = await storeBackup({ at: new Date(now.getTime() - 2 * DAY) });
    const failedDrill = await storeBackup({ at: new Date(now.getTime() - DAY) });
    await writeDrill(store, failedDrill.prefix, {
      backupId: failedDrill.backupId, drilledAt: now.toISOString(), ok: false, restoreDurationMs: 0, drillDurationMs: 10, bytes: 0, bytesPerSecond: 0,
      checks: [], reason: 'ARTIFACT_SIZE_MISMATCH: data/log.754 is 5000 bytes, the manifest says 67108880', target: 'scratch', manifestSha256: contentDigest(failedDrill.manifest),
    });

    // Act
    const decisions = await prune(new Catalog(store), store, { keepLast: 1, now, apply: true });
    const latest = await new Catalog(store).get('latest', { engine: 'etcd', instance: 'main', restorable: true });

    // Assess
    expect(decisions.map((d) => [d.entry.backupId, d.action, d.reason])).toEqual([
      [failedDrill.backupId, 'keep', 'newest complete backup that passed its validation'],
      [intact.backupId, 'keep', 'the backup restore latest takes (each newer one failed its drill or lacks an artifact)'],
    ]);
    expect(latest.backupId).toBe(intact.backupId);
  });

  it('never deletes the backup restore latest takes when every newer one lacks an artifact (cut short or gone), verified or not', async () => {
    // Prepare: two backups newer than the intact one, neither verified since: one's artifact cut short, the other's deleted
    const now = new Date();
    const intact = await storeBackup({ at: new Date(now.getTime() - 3 * DAY) });
    const gone = await storeBackup({ at: new Date(now.getTime() - 2 * DAY) });
    const cut = await storeBackup({ at: new Date(now.getTime() - DAY) });
    await truncate(path.join(root, cut.manifest.artifacts[0].key), 3);
    await rm(path.join(root, gone.manifest.artifacts[0].key));

    // Act
    const decisions = await prune(new Catalog(store), store, { keepLast: 1, now, apply: true });
    const latest = await new Catalog(store).get('latest', { engine: 'etcd', instance: 'main', restorable: true, serves: servesWhole(missingArtifacts(store, undefined)) });

    // Assess
    expect(decisions.map((d) => [d.entry.backupId, d.action, d.reason])).toEqual([
      [cut.backupId, 'keep', 'newest complete backup that passed its validation'],
      [gone.backupId, 'delete', 'beyond the 1 newest'],
      [intact.backupId, 'keep', 'the backup restore latest takes (each newer one failed its drill or lacks an artifact)'],
    ]);
    expect(latest.backupId).toBe(intact.backupId);
  });

  it('never deletes the backup restore latest takes when the newer ones share a pooled artifact the store lost (found from one listing of the pool, no read)', async () => {
    // Prepare: the two newer backups share a pool object, then lost
    const now = new Date();
    const intact = await storeBackup({ at: new Date(now.getTime() - 3 * DAY), pooled: ['older sstable'] });
    await storeBackup({ at: new Date(now.getTime() - 2 * DAY), pooled: ['shared sstable'] });
    const newest = await storeBackup({ at: new Date(now.getTime() - DAY), pooled: ['shared sstable'] });
    await rm(path.join(root, newest.manifest.artifacts[1].key));
    const reads: string[] = [];
    const watched = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'head' && property !== 'get') return Reflect.get(target, property, receiver);
        return (key: string, ...rest: unknown[]) => {
          if (key.startsWith('pool/')) reads.push(key);
          return (Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown).call(target, key, ...rest);
        };
      },
    });

    // Act
    const decisions = await prune(new Catalog(watched), watched, { keepLast: 1, now, apply: true });

    // Assess
    expect(decisions.filter((d) => d.action === 'keep').map((d) => [d.entry.backupId, d.reason])).toEqual([
      [newest.backupId, 'newest complete backup that passed its validation'],
      [intact.backupId, 'the backup restore latest takes (each newer one failed its drill or lacks an artifact)'],
    ]);
    expect(reads).toEqual([]); // the pool was listed, never read
  });

  it('removes incomplete leftovers only after the grace period', async () => {
    // Prepare
    const now = new Date();
    const stale = await storeBackup({ at: new Date(now.getTime() - 3 * DAY), complete: false });
    const running = await storeBackup({ at: new Date(now.getTime() - 60_000), complete: false });
    await storeBackup({ at: now });

    // Act
    await prune(new Catalog(store), store, { keepLast: 5, now, apply: true });
    const left = await new Catalog(store).list({ includeIncomplete: true });

    // Assess
    expect(left.map((e) => e.backupId)).not.toContain(stale.backupId);
    expect(left.map((e) => e.backupId)).toContain(running.backupId);
  });

  it('leaves a folder no backup has alone: not listed (no incomplete backup of 1970), not pruned', async () => {
    // Prepare: a file someone put in the instance's folder by hand, beside a backup
    const backup = await storeBackup({ at: new Date() });
    await store.put(`backups/${backup.manifest.engine}/${backup.manifest.instance}/notes/readme.txt`, 'kept by hand');

    // Act
    const listed = await new Catalog(store).list({ includeIncomplete: true });
    await prune(new Catalog(store), store, { keepLast: 1, now: new Date(Date.now() + 30 * DAY), apply: true });

    // Assess
    expect(listed.map((e) => e.backupId)).toEqual([backup.backupId]);
    expect(await store.head(`backups/${backup.manifest.engine}/${backup.manifest.instance}/notes/readme.txt`)).toBeDefined();
  });

  it('refuses a policy without rules or with a bad count', async () => {
    await expect(prune(new Catalog(store), store, {})).rejects.toMatchObject({ code: 'INVALID_POLICY' });
    await expect(prune(new Catalog(store), store, { keepLast: 0 })).rejects.toMatchObject({ code: 'INVALID_POLICY' });
  });
});
