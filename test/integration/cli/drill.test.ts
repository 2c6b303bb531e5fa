/**
 * Restore drills through the CLI, as an operator runs them: real etcd backups in a local store,
 * each drilled into a scratch etcd member the driver starts on this host and tears down after.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { useEtcdCli } from '../../harness/cli';
import { freeMemberUrls } from '../../harness/etcd';

const { dbbackup, work, backUp } = useEtcdCli('drill', 200);

const backupDir = (instance: string, backupId: string) => path.join(work(), 'store', 'backups', 'etcd', instance, backupId);

/** Every file of a backup but its drill record, with its bytes. */
async function contentsOf(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && e.name !== 'drill.json');
  const entries = await Promise.all(files.map(async (e) => {
    const file = path.join(e.parentPath, e.name);
    return [path.relative(dir, file), (await readFile(file)).toString('base64')] as const;
  }));
  return Object.fromEntries(entries);
}

interface Outcome { engine: string; instance: string; backupId: string; drill?: { ok: boolean; reason?: string; restoreDurationMs: number; bytes: number; checks: Array<{ name: string; ok: boolean }> }; error?: string }

describe('dbbackup drill', () => {
  it('restores the newest backup into a scratch member, validates it, records it restore-verified, and restore latest --verified picks it', async () => {
    // Prepare
    const backupId = await backUp('good');

    // Act
    const drill = await dbbackup(['--json', 'drill', '--engine', 'etcd', '--instance', 'good']);
    const list = JSON.parse((await dbbackup(['--json', 'list', '--engine', 'etcd', '--instance', 'good'])).stdout);
    const show = await dbbackup(['show', backupId]);
    const dataDir = path.join(work(), 'restored-verified', 'data');
    const restore = await dbbackup(['--json', 'restore', 'latest', '--verified', '--engine', 'etcd', '--instance', 'good', '--target',
      JSON.stringify({ dataDir, ...(await freeMemberUrls()) })]);
    await stopMember(memberPidFile(dataDir));

    // Assess
    expect(drill.code).toBe(0);
    const [outcome] = JSON.parse(drill.stdout) as Outcome[];
    expect(outcome).toMatchObject({ engine: 'etcd', instance: 'good', backupId, drill: { ok: true } });
    expect(outcome.drill!.bytes).toBeGreaterThan(0);
    expect(outcome.drill!.checks.find((c) => c.name === 'kv-digest')).toMatchObject({ ok: true });
    const recorded = JSON.parse(await readFile(path.join(backupDir('good', backupId), 'drill.json'), 'utf8'));
    expect(recorded).toMatchObject({ backupId, ok: true, target: expect.stringContaining('scratch etcd') });
    expect(list[0]).toMatchObject({ backupId, drill: { ok: true } });
    expect(show.stdout).toMatch(/restore-verified/);
    expect(show.stdout).toMatch(/last drill .* restored and validated/);
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ backupId, validation: { ok: true } });
  });

  it('marks a backup with a flipped byte "restore failed" with the reason, exits non-zero, and leaves the backup as it was', async () => {
    // Prepare: one byte of the snapshot artifact flipped in the store
    const backupId = await backUp('flipped');
    const dir = backupDir('flipped', backupId);
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { artifacts: Array<{ key: string }> };
    const artifact = path.join(work(), 'store', manifest.artifacts[0].key);
    const bytes = await readFile(artifact);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(artifact, bytes);
    const before = await contentsOf(dir);

    // Act
    const drill = await dbbackup(['--json', 'drill', '--engine', 'etcd', '--instance', 'flipped']);
    const list = JSON.parse((await dbbackup(['--json', 'list', '--engine', 'etcd', '--instance', 'flipped'])).stdout);
    const human = await dbbackup(['list', '--engine', 'etcd', '--instance', 'flipped']);
    const verifiedRestore = await dbbackup(['restore', 'latest', '--verified', '--engine', 'etcd', '--instance', 'flipped', '--target', '{}']);
    const latestRestore = await dbbackup(['restore', 'latest', '--engine', 'etcd', '--instance', 'flipped', '--target', '{}']);

    // Assess
    expect(drill.code).toBe(1);
    const [outcome] = JSON.parse(drill.stdout) as Outcome[];
    expect(outcome).toMatchObject({ backupId, drill: { ok: false, reason: expect.stringMatching(/sha256|corrupt|CHECKSUM/i) } });
    expect(await contentsOf(dir)).toEqual(before);
    expect(list[0]).toMatchObject({ backupId, drill: { ok: false } });
    expect(human.stdout).toMatch(/RESTORE FAILED/);
    expect(verifiedRestore.code).toBe(2);
    expect(verifiedRestore.stderr).toMatch(/no restore-verified backup .* found for etcd\/flipped/);
    // Nor is it `latest`: a drill showed it does not restore.
    expect(latestRestore.code).toBe(2);
    expect(latestRestore.stderr).toMatch(new RegExp(`no verified backup found for etcd/flipped .*the newest, ${backupId} \\(etcd/flipped\\), failed its restore drill`));
  });

  it('prune keeps the newest restore-verified backup even when the rules would remove it', async () => {
    // Prepare: a drilled backup, then two newer ones never drilled
    const drilled = await backUp('kept');
    expect((await dbbackup(['drill', '--engine', 'etcd', '--instance', 'kept'])).code).toBe(0);
    const middle = await backUp('kept');
    const newest = await backUp('kept');

    // Act
    const prune = await dbbackup(['--json', 'prune', '--keep-last', '1', '--engine', 'etcd', '--instance', 'kept', '--apply']);

    // Assess
    expect(prune.code).toBe(0);
    const decisions = (JSON.parse(prune.stdout) as Array<{ kind: string; backupId: string; action: string; reason: string }>).filter((d) => d.kind === 'backup');
    expect(decisions.map((d) => [d.backupId, d.action])).toEqual([[newest, 'keep'], [middle, 'delete'], [drilled, 'keep']]);
    expect(decisions.find((d) => d.backupId === drilled)?.reason).toMatch(/restore-verified/);
    const remaining = await readdir(path.join(work(), 'store', 'backups', 'etcd', 'kept'));
    expect(remaining.sort()).toEqual([drilled, newest].sort());
  });

  it('keeps a backup\'s good verdict when a drill cannot run for reasons of its target, and says so as bad input', async () => {
    // Prepare: a drilled backup, and a target of one's own that holds data
    const backupId = await backUp('target-trouble');
    expect((await dbbackup(['drill', '--engine', 'etcd', '--instance', 'target-trouble'])).code).toBe(0);
    const dataDir = path.join(work(), 'occupied', 'data');
    await mkdir(path.join(dataDir, 'member'), { recursive: true });
    await writeFile(path.join(dataDir, 'member', 'precious.txt'), 'keep me\n');

    // Act
    const occupied = await dbbackup(['--json', 'drill', '--engine', 'etcd', '--instance', 'target-trouble', '--target', JSON.stringify({ dataDir, ...(await freeMemberUrls()) })]);
    const invalid = await dbbackup(['drill', '--engine', 'etcd', '--instance', 'target-trouble', '--target', '{}']);
    const unknown = await dbbackup(['drill', '--engine', 'nosuchdb']);
    const list = JSON.parse((await dbbackup(['--json', 'list', '--engine', 'etcd', '--instance', 'target-trouble'])).stdout);

    // Assess
    expect(occupied.code).toBe(2);
    expect((JSON.parse(occupied.stdout) as Outcome[])[0]).toMatchObject({ backupId, error: expect.stringMatching(/^TARGET_NOT_EMPTY: .* — a drill never replaces a target \(drill has no --force\): give an empty one, or none for a scratch target — target untouched/) });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/invalid restore target for engine 'etcd'/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown engine 'nosuchdb'/);
    expect(list[0]).toMatchObject({ backupId, drill: { ok: true } });
    expect(await readFile(path.join(dataDir, 'member', 'precious.txt'), 'utf8')).toBe('keep me\n');
  });

  it('refuses --target without the one instance it is for', async () => {
    const run = await dbbackup(['drill', '--target', '{}']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--engine and --instance/);
  });

  it('refuses --target-settings without the engine they are for, before any scratch target starts', async () => {
    const run = await dbbackup(['drill', '--target-settings', '{"auth":[]}']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^dbbackup: --target-settings are fields of one engine's target: give --engine too .*\[INVALID_INPUT\]$/m);
  });
});
