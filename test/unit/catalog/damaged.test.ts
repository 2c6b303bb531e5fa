/**
 * One bad backup never blocks the rest: an unreadable manifest or verification record damages
 * that backup only. It is listed as damaged with the reason, never chosen as `latest`, reported
 * as a corrupt backup (not bad input) by verify and restore, and pruned like an incomplete one.
 * An id stored under two instances is ambiguous, never silently one of them.
 */
import { Catalog } from '../../../core/catalog/catalog';
import { manifestKey, verificationKey } from '../../../core/catalog/layout';
import { prune } from '../../../core/catalog/prune';
import { verifyBackup } from '../../../core/catalog/verification';
import type { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { storeBackup } from '../../fixtures/catalog/stored-backup';
import { makeTempStore, removeDir } from '../../fixtures/store/files';

const DAY = 86_400_000;
let root: string;
let store: LocalDirectoryStore;

beforeEach(async () => ({ root, store } = await makeTempStore('damaged')));
afterEach(() => removeDir(root));

describe('a damaged manifest', () => {
  it('is listed as damaged with the reason, and every other backup still lists and shows', async () => {
    // Prepare
    const now = Date.now();
    const good = await storeBackup(store, { at: new Date(now - 2 * DAY) });
    const bad = await storeBackup(store, { at: new Date(now - DAY) });
    await store.put(manifestKey(bad.prefix), '{"formatVersion": 1, "backupId": ');
    const catalog = new Catalog(store);

    // Act
    const listed = await catalog.list();
    const shown = await catalog.find(good.backupId);
    const damaged = await catalog.find(bad.backupId);

    // Assess
    expect(listed.map((e) => [e.backupId, e.status, e.complete])).toEqual([[bad.backupId, 'damaged', false], [good.backupId, 'complete', true]]);
    expect(listed[0].damage).toEqual({ file: 'manifest.json', code: 'INVALID_JSON', reason: expect.stringContaining('is not valid JSON') });
    expect(shown.manifest?.backupId).toBe(good.backupId);
    expect(damaged).toMatchObject({ status: 'damaged', damage: { file: 'manifest.json' } });
  });

  it('names the field of a manifest that is JSON but not a manifest', async () => {
    // Prepare
    const malformed = await storeBackup(store, { at: new Date() });
    await store.put(manifestKey(malformed.prefix), JSON.stringify({ ...malformed.manifest, bytes: 'many' }));

    // Act
    const [entry] = await new Catalog(store).list();

    // Assess
    expect(entry.damage).toMatchObject({ code: 'INVALID_MANIFEST', reason: expect.stringMatching(/is malformed: bytes: expected number, received string$/) });
  });

  it('includes a manifest copied in from another backup, and one listing another backup\'s artifact', async () => {
    // Prepare
    const now = Date.now();
    const source = await storeBackup(store, { at: new Date(now - 3 * DAY) });
    const copiedOver = await storeBackup(store, { at: new Date(now - 2 * DAY) });
    const borrowing = await storeBackup(store, { at: new Date(now - DAY) });
    await store.put(manifestKey(copiedOver.prefix), JSON.stringify(source.manifest));
    const borrowed = { ...borrowing.manifest, artifacts: [{ ...borrowing.manifest.artifacts[0], key: source.manifest.artifacts[0].key }] };
    await store.put(manifestKey(borrowing.prefix), JSON.stringify(borrowed));

    // Act
    const byId = new Map((await new Catalog(store).list()).map((e) => [e.backupId, e]));

    // Assess
    expect(byId.get(source.backupId)?.status).toBe('complete');
    expect(byId.get(copiedOver.backupId)?.damage).toMatchObject({ code: 'INVALID_MANIFEST', reason: expect.stringContaining(`it describes backup ${source.prefix}, not the one stored here`) });
    expect(byId.get(borrowing.backupId)?.damage).toMatchObject({ code: 'INVALID_MANIFEST', reason: expect.stringMatching(/its artifact .* lies outside the backup/) });
  });

  it('is never latest, and verify/restore get a corrupt-backup error (BACKUP_DAMAGED), not bad input', async () => {
    // Prepare
    const now = Date.now();
    const good = await storeBackup(store, { at: new Date(now - DAY) });
    const bad = await storeBackup(store, { at: new Date(now) });
    await store.put(manifestKey(bad.prefix), 'not json');
    const catalog = new Catalog(store);

    // Act
    const latest = await catalog.get('latest', { engine: 'etcd', instance: 'main' });

    // Assess
    expect(latest.backupId).toBe(good.backupId);
    await expect(catalog.get(bad.backupId)).rejects.toMatchObject({
      name: 'PermanentError', code: 'BACKUP_DAMAGED', message: expect.stringMatching(new RegExp(`^backup ${bad.backupId} \\(etcd/main\\) is damaged: manifest.json: `)),
    });
  });

  it('is pruned by the rules of an incomplete backup: after the grace period, whatever keep-last says', async () => {
    // Prepare
    const now = new Date();
    const old = await storeBackup(store, { at: new Date(now.getTime() - 3 * DAY) });
    const recent = await storeBackup(store, { at: new Date(now.getTime() - 60_000) });
    const good = await storeBackup(store, { at: new Date(now.getTime() - 2 * DAY) });
    await store.put(manifestKey(old.prefix), '');
    await store.put(manifestKey(recent.prefix), '[');
    const catalog = new Catalog(store);

    // Act
    const decisions = await prune(catalog, store, { keepLast: 5, now, apply: true });
    const left = await catalog.list({ includeIncomplete: true });

    // Assess
    const reasons = Object.fromEntries(decisions.map((d) => [d.entry.backupId, `${d.action}: ${d.reason}`]));
    expect(reasons[old.backupId]).toBe('delete: damaged (manifest.json unreadable: INVALID_JSON) and older than the grace period');
    expect(reasons[recent.backupId]).toMatch(/^keep: damaged .* but younger than the grace period$/);
    expect(left.map((e) => e.backupId)).toEqual([recent.backupId, good.backupId]);
  });
});

describe('a damaged verification record', () => {
  it('does not count a verification made for another version of the manifest', async () => {
    // Prepare: verified, then its manifest edited (an artifact's checksum made to match a tampered file)
    const backup = await storeBackup(store, { at: new Date() });
    await verifyBackup(store, backup.prefix, backup.manifest);
    const edited = { ...backup.manifest, artifacts: backup.manifest.artifacts.map((a) => ({ ...a, sha256: '0'.repeat(64) })) };
    await store.put(manifestKey(backup.prefix), JSON.stringify(edited));

    // Act
    const [entry] = await new Catalog(store).list();

    // Assess
    expect(entry.status).toBe('complete');
    expect(entry.verification).toBeUndefined();
  });

  it('lists the backup as damaged but complete, never latest, until verify records a new one', async () => {
    // Prepare
    const now = Date.now();
    const older = await storeBackup(store, { at: new Date(now - DAY) });
    const newer = await storeBackup(store, { at: new Date(now) });
    await store.put(verificationKey(newer.prefix), '{"ok": tru');
    const catalog = new Catalog(store);

    // Act
    const [listed] = await catalog.list({ engine: 'etcd', instance: 'main' });
    const latestBefore = await catalog.get('latest', { engine: 'etcd', instance: 'main' });
    const explicit = await catalog.get(newer.backupId);
    await verifyBackup(store, explicit.prefix, explicit.manifest);
    const latestAfter = await catalog.get('latest', { engine: 'etcd', instance: 'main' });

    // Assess
    expect(listed).toMatchObject({ backupId: newer.backupId, status: 'damaged', complete: true, damage: { file: 'verification.json', code: 'INVALID_JSON' } });
    expect(latestBefore.backupId).toBe(older.backupId);
    expect(latestAfter).toMatchObject({ backupId: newer.backupId, status: 'complete', verification: { ok: true } });
  });

  it('is kept or deleted by the rules of complete backups', async () => {
    // Prepare
    const now = new Date();
    const damaged = await storeBackup(store, { at: new Date(now.getTime() - DAY) });
    await store.put(verificationKey(damaged.prefix), 'garbage');

    // Act
    const [decision] = await prune(new Catalog(store), store, { keepLast: 1, now });

    // Assess
    expect(decision).toMatchObject({ action: 'keep', reason: 'among the 1 newest' });
  });
});

describe('a backup id under two instances', () => {
  it('is ambiguous for show, verify and restore unless engine and instance say which', async () => {
    // Prepare
    const at = new Date();
    const first = await storeBackup(store, { at, instance: 'a' });
    await storeBackup(store, { at, instance: 'b', backupId: first.backupId });
    const catalog = new Catalog(store);

    // Act + Assess
    await expect(catalog.find(first.backupId)).rejects.toMatchObject({
      name: 'PermanentError', code: 'BACKUP_AMBIGUOUS',
      message: expect.stringMatching(/is ambiguous: it exists under etcd\/a, etcd\/b .*--engine and --instance/),
    });
    await expect(catalog.get(first.backupId)).rejects.toMatchObject({ code: 'BACKUP_AMBIGUOUS' });
    expect((await catalog.get(first.backupId, { engine: 'etcd', instance: 'b' })).instance).toBe('b');
    expect((await catalog.find(first.backupId, { instance: 'a' })).instance).toBe('a');
  });
});
