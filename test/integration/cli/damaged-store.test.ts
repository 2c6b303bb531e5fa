/**
 * A store with one bad backup, through the real CLI: the bad one is listed as damaged with the
 * reason, the others still list, show, verify and restore, prune removes it by the incomplete
 * rules, and verify/restore of it fail as a corrupt backup (exit 1), not bad input. A backup id
 * under two instances is ambiguous (exit 2) until --engine/--instance say which.
 */
import { cp, mkdir, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newBackupId } from '../../../core/catalog/layout';
import { memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { useEtcdCli } from '../../harness/cli';
import { freeMemberUrls, trackMember } from '../../harness/etcd';

const { dbbackup, work, backUp } = useEtcdCli('cli-damaged', 20);
const backupsDir = (...parts: string[]): string => path.join(work(), 'store', 'backups', 'etcd', ...parts);


describe('a store with a damaged backup', () => {
  it('lists, shows, verifies, restores and prunes around it', async () => {
    // Prepare: a good backup, a newer one whose manifest is cut short, and a three-day-old damaged leftover.
    const good = await backUp('main');
    const cut = await backUp('main');
    await writeFile(backupsDir('main', cut, 'manifest.json'), '{"formatVersion": 1, "backupId": "');
    const stale = newBackupId(new Date(Date.now() - 3 * 86_400_000));
    await mkdir(backupsDir('main', stale, 'data', 'default'), { recursive: true });
    await writeFile(backupsDir('main', stale, 'data', 'default', 'snapshot.db'), 'half');
    await writeFile(backupsDir('main', stale, 'manifest.json'), 'garbage');
    const dataDir = path.join(work(), 'restored', 'data');

    // Act
    const list = await dbbackup(['list']);
    const listJson = await dbbackup(['--json', 'list']);
    const showGood = await dbbackup(['show', good]);
    const showCut = await dbbackup(['--json', 'show', cut]);
    const latest = await dbbackup(['show', 'latest', '--engine', 'etcd', '--instance', 'main']);
    const verifyCut = await dbbackup(['verify', cut]);
    const restoreCut = await dbbackup(['restore', cut, '--target', JSON.stringify({ dataDir, ...(await freeMemberUrls()) })]);
    const restoreLatest = await dbbackup(['restore', 'latest', '--engine', 'etcd', '--instance', 'main', '--target', JSON.stringify({ dataDir, ...(await freeMemberUrls()) })]);
    await stopMember(memberPidFile(dataDir));
    const pruned = await dbbackup(['prune', '--keep-last', '5', '--apply']);
    const after = JSON.parse((await dbbackup(['--json', 'list', '--all'])).stdout);

    // Assess
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${cut}\\s+etcd\\s+main\\s+\\S+ \\S+\\s+DAMAGED`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${good}\\s+etcd\\s+main\\s+.*complete`, 'm'));
    expect(list.stdout).toContain(`etcd/main/${cut}: manifest.json is unreadable (`);
    expect(JSON.parse(listJson.stdout)).toEqual(expect.arrayContaining([
      expect.objectContaining({ backupId: cut, status: 'damaged', complete: false, damage: expect.objectContaining({ file: 'manifest.json', code: 'INVALID_JSON', reason: expect.stringContaining('not valid JSON') }) }),
      expect.objectContaining({ backupId: good, status: 'complete' }),
    ]));
    expect(showGood.code).toBe(0);
    expect(showGood.stdout).toContain(`backup ${good} (complete)`);
    expect(showCut.code).toBe(0);
    expect(JSON.parse(showCut.stdout)).toMatchObject({ backupId: cut, status: 'damaged', damage: { file: 'manifest.json' } });
    expect(latest.stdout).toContain(`backup ${good} `);
    expect(verifyCut.code).toBe(1);
    expect(verifyCut.stderr).toMatch(new RegExp(`^dbbackup: backup ${cut} \\(etcd/main\\) is damaged: manifest.json: .*\\[BACKUP_DAMAGED\\]$`, 'm'));
    expect(restoreCut.code).toBe(1);
    expect(restoreCut.stderr).toContain('[BACKUP_DAMAGED]');
    expect(restoreLatest.code).toBe(0);
    // The newest backup is damaged: `latest` restores the older good one, and says so.
    expect(restoreLatest.stdout).toContain(`restore of ${good} validated`);
    expect(restoreLatest.stdout).toMatch(new RegExp(`NOT the newest: .*\\n\\s+${cut} is damaged \\(manifest.json: `));
    expect(restoreLatest.stderr).toMatch(new RegExp(`^dbbackup: warning: restored ${good}, not the newest backup: ${cut} is damaged`, 'm'));
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(new RegExp(`deleted  etcd/main/${stale}  \\(damaged \\(manifest.json unreadable: INVALID_JSON\\) and older than the grace period\\)`));
    expect(after.map((e: { backupId: string }) => e.backupId)).toEqual([cut, good]);
  });

  it('says how many incomplete backups a plain list leaves out, and how to see them', async () => {
    // Prepare: a good backup and a crashed one (its data, no manifest)
    const good = await backUp('partly');
    const crashed = newBackupId();
    await mkdir(backupsDir('partly', crashed, 'data', 'default'), { recursive: true });
    await writeFile(backupsDir('partly', crashed, 'data', 'default', 'snapshot.db'), 'half');

    // Act
    const list = await dbbackup(['list', '--instance', 'partly']);
    const listJson = JSON.parse((await dbbackup(['--json', 'list', '--instance', 'partly'])).stdout) as Array<{ backupId: string }>;
    const all = await dbbackup(['list', '--all', '--instance', 'partly']);

    // Assess
    expect(list.stdout).toMatch(new RegExp(`^${good}\\s`, 'm'));
    expect(list.stdout).not.toContain(crashed);
    expect(list.stdout).toContain('1 incomplete backup (crashed or still running) not listed: list --all shows it');
    expect(listJson.map((e) => e.backupId)).toEqual([good]);
    expect(all.stdout).toMatch(new RegExp(`^${crashed}\\s.*incomplete`, 'm'));
    expect(all.stdout).not.toContain('not listed');
  });

  it('says a backup id under two instances is ambiguous, and how to narrow it', async () => {
    // Prepare: the same backup copied under another instance.
    const id = await backUp('twin-a');
    await cp(backupsDir('twin-a', id), backupsDir('twin-b', id), { recursive: true });
    const dataDir = path.join(work(), 'twin', 'data');
    trackMember(memberPidFile(dataDir)); // stopped at the end, should the restore ever pick one of the twins
    const target = JSON.stringify({ dataDir, ...(await freeMemberUrls()) });

    // Act
    const show = await dbbackup(['show', id]);
    const verify = await dbbackup(['verify', id]);
    const restore = await dbbackup(['restore', id, '--target', target]);
    const narrowed = await dbbackup(['--json', 'show', id, '--engine', 'etcd', '--instance', 'twin-a']);
    const copy = await dbbackup(['--json', 'show', id, '--engine', 'etcd', '--instance', 'twin-b']);

    // Assess
    for (const run of [show, verify, restore]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^dbbackup: backup id ${id} is ambiguous: it exists under etcd/twin-a, etcd/twin-b .*; say which with --engine and --instance \\[BACKUP_AMBIGUOUS\\]$`, 'm'));
    }
    expect(narrowed.code).toBe(0);
    expect(JSON.parse(narrowed.stdout)).toMatchObject({ backupId: id, instance: 'twin-a', status: 'complete' });
    // The copy's manifest names twin-a: stored under twin-b, it is damage, never a second good backup.
    expect(copy.code).toBe(0);
    expect(JSON.parse(copy.stdout)).toMatchObject({ backupId: id, instance: 'twin-b', status: 'damaged', damage: { file: 'manifest.json' } });
  });

  it('restore latest passes over a backup whose artifact the store holds cut short, naming it; a restore of it by id is refused before the target is touched', async () => {
    // Prepare: a good backup, then a newer one whose snapshot the store lost the end of
    const good = await backUp('cut-short');
    const cut = await backUp('cut-short');
    const snapshot = backupsDir('cut-short', cut, 'data', 'default', 'snapshot.db');
    const whole = (await stat(snapshot)).size;
    await truncate(snapshot, 5000);
    const byId = path.join(work(), 'by-id', 'data');
    const latestDir = path.join(work(), 'latest', 'data');

    // Act
    const refused = await dbbackup(['restore', cut, '--target', JSON.stringify({ dataDir: byId, ...(await freeMemberUrls()) })]);
    const latest = await dbbackup(['--json', 'restore', 'latest', '--engine', 'etcd', '--instance', 'cut-short', '--target', JSON.stringify({ dataDir: latestDir, ...(await freeMemberUrls()) })]);
    trackMember(memberPidFile(latestDir));
    await stopMember(memberPidFile(latestDir));
    const again = await dbbackup(['restore', 'latest', '--engine', 'etcd', '--instance', 'cut-short', '--target', JSON.stringify({ dataDir: latestDir, ...(await freeMemberUrls()) })]);
    const list = await dbbackup(['list', '--instance', 'cut-short']);
    const shown = await dbbackup(['--json', 'show', 'latest', '--engine', 'etcd', '--instance', 'cut-short']);

    // Assess
    const why = `is damaged: backups/etcd/cut-short/${cut}/data/default/snapshot.db is 5000 bytes, expected ${whole}`;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`backup ${cut} ${why} (found before the restore began: the target is untouched) [ARTIFACT_SIZE_MISMATCH]`);
    await expect(stat(byId)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(latest.code).toBe(0);
    expect(JSON.parse(latest.stdout)).toMatchObject({ backupId: good, validation: { ok: true }, passedOver: [{ backupId: cut, why }] });
    expect(latest.stderr).toContain(`dbbackup: warning: restored ${good}, not the newest backup: ${cut} ${why}`);
    // A restore of latest that fails (here: its target is no longer empty) says which backup latest was, and why not the newest.
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`^dbbackup: restore target data dir .* — latest was backup ${good}, not the newest: ${cut} is damaged: .* \\[TARGET_NOT_EMPTY\\]$`, 'm'));
    // list tells it from its listing, without a verify
    expect(list.stdout).toMatch(new RegExp(`^${cut}\\s+etcd\\s+cut-short\\s+\\S+ \\S+\\s+CORRUPT\\s`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${good}\\s+etcd\\s+cut-short\\s+\\S+ \\S+\\s+(complete|verified)\\s`, 'm'));
    expect(JSON.parse(shown.stdout)).toMatchObject({ backupId: good }); // latest is what restore latest takes, not the CORRUPT one
    expect(list.stdout).toContain(`artifacts cut short or gone (found by the listing; restore latest passes over these):\n  etcd/cut-short/${cut}: backups/etcd/cut-short/${cut}/data/default/snapshot.db is 5000 bytes, expected ${whole}`);
  });
});
