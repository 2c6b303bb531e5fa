/**
 * Incremental backups through the real CLI, with the dirdelta test plugin (the `incremental`
 * capability) loaded from its plugin path as an external driver: `backup --incremental` reaches the
 * request, `list` and `show` say what a backup extends (and `--json` keeps `extends`), a restore
 * applies the chain, and an engine without the capability is refused as bad input (exit 2).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cliIn } from '../../harness/cli';
import { tempDir } from '../../harness/test-run';

const PLUGINS = path.resolve(__dirname, '../../fixtures/plugins');
/** dirdelta (incremental) and dirtree (full backups only), as a host with unpinned development plugins loads them. */
const PLUGIN_ENV = { DBBACKUP_PLUGIN_PATH: `${path.join(PLUGINS, 'incremental')}:${path.join(PLUGINS, 'good')}`, DBBACKUP_ALLOW_UNPINNED_PLUGINS: 'true' };

let work: string;
let source: string;
beforeAll(async () => {
  work = await tempDir('cli-incremental');
  source = path.join(work, 'source');
  await mkdir(source);
  await writeFile(path.join(source, 'a.txt'), 'alpha');
  await writeFile(path.join(source, 'b.txt'), 'bravo');
});
afterAll(() => rm(work, { recursive: true, force: true }));

const run = cliIn(() => work);
const dbbackup = (args: string[]) => run(args, PLUGIN_ENV);
const config = () => JSON.stringify({ root: source });

describe('dbbackup backup --incremental', () => {
  it('takes an incremental backup that list and show name, and restore applies with its base', async () => {
    // Prepare
    const full = JSON.parse((await dbbackup(['--json', 'backup', 'dirdelta', '--instance', 'docs', '--config', config()])).stdout);
    await writeFile(path.join(source, 'a.txt'), 'alpha, changed');

    // Act
    const incremental = await dbbackup(['backup', 'dirdelta', '--instance', 'docs', '--config', config(), '--incremental']);
    const listJson = JSON.parse((await dbbackup(['--json', 'list', '--engine', 'dirdelta'])).stdout);
    const list = await dbbackup(['list', '--engine', 'dirdelta']);
    const incId = listJson[0].backupId as string;
    const show = await dbbackup(['show', incId]);
    const target = path.join(work, 'restored');
    const restore = await dbbackup(['--json', 'restore', incId, '--target', JSON.stringify({ dir: target })]);

    // Assess
    expect(incremental.code).toBe(0);
    expect(incremental.stdout).toContain(`backup ${incId} complete (incremental, extends ${full.backupId})`);
    expect(incremental.stdout).toMatch(new RegExp(`incremental +extends ${full.backupId}, the newest verified backup of dirdelta/docs`));
    expect(listJson.map((e: { manifest: { extends?: string } }) => e.manifest.extends)).toEqual([full.backupId, undefined]);
    const rows = list.stdout.split('\n');
    expect(rows[0]).toMatch(/BACKUP ID .* CREATED +EXTENDS$/);
    expect(rows.find((r) => r.startsWith(incId))).toMatch(new RegExp(`${full.backupId}$`));
    expect(rows.find((r) => r.startsWith(full.backupId))).toMatch(/\(full\)$/);
    expect(show.stdout).toMatch(new RegExp(`extends +${full.backupId} \\(incremental`));
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ endpoint: { applied: `${full.backupId},${incId}` }, validation: { ok: true } });
    expect(await readFile(path.join(target, 'a.txt'), 'utf8')).toBe('alpha, changed');
    expect(await readFile(path.join(target, 'b.txt'), 'utf8')).toBe('bravo');
  });

  it('says in the backup summary why it took a full backup when the instance has none to extend', async () => {
    const run = await dbbackup(['--json', 'backup', 'dirdelta', '--instance', 'fresh', '--config', config(), '--incremental']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ incremental: { requested: true, reason: 'no verified backup of dirdelta/fresh yet: taking a full backup' } });
    expect(JSON.parse(run.stdout)).not.toHaveProperty('extends');
  });

  it('exits 2 naming the engine for a driver without the capability, and is in the help', async () => {
    const refused = await dbbackup(['backup', 'dirtree', '--instance', 'docs', '--config', config(), '--incremental']);
    const help = await dbbackup(['backup', '--help']);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/engine 'dirtree' does not take incremental backups.*\[INCREMENTAL_UNSUPPORTED\]/);
    expect(help.stdout).toMatch(/--incremental +take only what changed since the newest verified\s+backup/);
  });
});
