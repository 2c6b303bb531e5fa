/**
 * Bad input through the real CLI: refused with exit 2 before anything runs, and the first line of
 * stderr names the field and the problem.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { useEtcdCli } from '../../harness/cli';
import { memberPidFile } from '../../../drivers/etcd/member';
import { freeMemberUrls, trackMember } from '../../harness/etcd';

const { dbbackup, etcd, work } = useEtcdCli('cli-inputs');
let backupId: string;
const firstLine = (text: string): string => text.split('\n')[0];

beforeAll(async () => {
  const backup = await dbbackup(['--json', 'backup', 'etcd', '--instance', 'inputs', '--config', JSON.stringify({ endpoints: [etcd().clientUrl] })]);
  backupId = JSON.parse(backup.stdout).backupId;
});

describe('dbbackup input checks', () => {
  it('says a store directory that does not exist is not there, rather than listing it as empty (a mistyped or unmounted --store)', async () => {
    // Prepare
    const missing = path.join(work(), 'not-mounted', 'store');

    // Act
    const list = await dbbackup(['--store', missing, 'list']);
    const report = await dbbackup(['--store', missing, '--json', 'report']);
    const restore = await dbbackup(['--store', missing, 'restore', 'latest', '--engine', 'etcd', '--instance', 'inputs', '--target', '{}']);

    // Assess
    for (const run of [list, restore]) {
      expect(run.code).toBe(2);
      expect(firstLine(run.stderr)).toBe(`dbbackup: no store at ${missing}: the directory does not exist (a mistyped or unmounted --store / DBBACKUP_STORE? the first backup creates it) [STORE_NOT_FOUND]`);
    }
    expect(report.code).toBe(2);
    expect(JSON.parse(report.stdout)).toMatchObject({ error: { code: 'STORE_NOT_FOUND' } });
  });

  it('says a store path that is a file is no store, for listing, restoring and backing up alike (it listed "no backups", a backup said KEY_CONFLICT)', async () => {
    // Prepare
    const file = path.join(work(), 'dump.sql');
    await writeFile(file, 'not a store');

    // Act
    const list = await dbbackup(['--store', file, 'list']);
    const restore = await dbbackup(['--store', file, 'restore', 'latest', '--engine', 'etcd', '--instance', 'inputs', '--target', '{}']);
    const backup = await dbbackup(['--store', file, 'backup', 'etcd', '--instance', 'inputs', '--config', JSON.stringify({ endpoints: [etcd().clientUrl] })]);

    // Assess
    expect(await readFile(file, 'utf8')).toBe('not a store');
    for (const run of [list, restore, backup]) {
      expect(run.code).toBe(2);
      expect(firstLine(run.stderr)).toBe(`dbbackup: no store at ${file}: it is a file, not a directory (a mistyped --store / DBBACKUP_STORE?) [STORE_NOT_FOUND]`);
    }

    // Act: a path through the file (it said ENOTDIR)
    const under = path.join(file, 'backups');
    const throughFile = [await dbbackup(['--store', under, 'list']), await dbbackup(['--store', under, 'backup', 'etcd', '--instance', 'inputs', '--config', JSON.stringify({ endpoints: [etcd().clientUrl] })])];

    // Assess
    for (const run of throughFile) {
      expect(run.code).toBe(2);
      expect(firstLine(run.stderr)).toBe(`dbbackup: no store at ${under}: a file stands where one of its parent directories should be (a mistyped --store / DBBACKUP_STORE?) [STORE_NOT_FOUND]`);
    }
  });

  it('names the field and the problem on the first line of an invalid config', async () => {
    // Act
    const run = await dbbackup(['backup', 'mysql', '--instance', 'x', '--config', '{"port":"3306","user":"root"}']);

    // Assess
    expect(run.code).toBe(2);
    expect(firstLine(run.stderr)).toBe("dbbackup: invalid config for engine 'mysql': port: expected number, received string [INVALID_CONFIG]");
  });

  it('refuses an inline password in --config and --target, naming the field; nothing is backed up', async () => {
    // Act
    const backup = await dbbackup(['backup', 'etcd', '--instance', 'inline', '--config', JSON.stringify({ endpoints: [etcd().clientUrl], username: 'root', password: 'hunter2' })]);
    trackMember(memberPidFile(path.join(work(), 'r'))); // stopped at the end, should the refusal ever fail
    const restore = await dbbackup(['restore', backupId, '--target', JSON.stringify({ dataDir: path.join(work(), 'r'), ...(await freeMemberUrls()), username: 'root', password: 'hunter2' })]);
    const listed = JSON.parse((await dbbackup(['--json', 'list', '--all', '--instance', 'inline', '--engine', 'etcd'])).stdout);

    // Assess
    expect(backup.code).toBe(2);
    expect(firstLine(backup.stderr)).toMatch(/^dbbackup: invalid backup request: config\.password: must be a \{ "\$secret": "<scheme>:<ref>" \} reference/);
    expect(backup.stderr).not.toContain('hunter2');
    expect(restore.code).toBe(2);
    expect(firstLine(restore.stderr)).toMatch(/^dbbackup: invalid restore request: target\.password: must be a \{ "\$secret"/);
    expect(listed).toEqual([]);
  });

  it('refuses a restore dataDir that is relative or climbs out with ..', async () => {
    // Prepare: should the refusal ever fail, the members land in the work dir and are stopped at the end.
    const urls = await freeMemberUrls();
    for (const dir of ['elsewhere', 'restored']) trackMember(memberPidFile(path.join(work(), dir)));

    // Act
    const climbing = await dbbackup(['restore', backupId, '--target', JSON.stringify({ dataDir: `${work()}/a/b/../../elsewhere`, ...urls })]);
    const relative = await dbbackup(['restore', backupId, '--target', JSON.stringify({ dataDir: 'restored', ...urls })]);

    // Assess
    expect(climbing.code).toBe(2);
    expect(firstLine(climbing.stderr)).toMatch(/^dbbackup: invalid restore target for engine 'etcd': dataDir: must not contain '\.\.' segments/);
    expect(relative.code).toBe(2);
    expect(firstLine(relative.stderr)).toMatch(/dataDir: must be an absolute path \(got 'restored'\)/);
  });

  it('refuses an unknown --log-level or DBBACKUP_LOG_LEVEL, naming the allowed values', async () => {
    // Act
    const flag = await dbbackup(['--log-level', 'verbose', 'list']);
    const env = await dbbackup(['list'], { DBBACKUP_LOG_LEVEL: 'loud' });
    const good = await dbbackup(['--log-level', 'debug', 'list'], { DBBACKUP_LOG_LEVEL: 'loud' });

    // Assess
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/'verbose' is invalid\. Allowed choices are debug, info, warn, error/);
    expect(env.code).toBe(2);
    expect(firstLine(env.stderr)).toBe("dbbackup: DBBACKUP_LOG_LEVEL must be one of debug, info, warn, error; got 'loud' [INVALID_INPUT]");
    expect(good.code).toBe(0);
  });

  it('answers with a JSON error on stdout under --json, also for usage and setting errors', async () => {
    // Act
    const usage = await dbbackup(['--json', '--log-level', 'verbose', 'list']);
    const setting = await dbbackup(['--json', 'list'], { DBBACKUP_LOG_LEVEL: 'loud' });

    // Assess
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { name: 'UsageError', code: 'INVALID_USAGE', message: expect.stringContaining("'verbose' is invalid") } });
    expect(setting.code).toBe(2);
    expect(JSON.parse(setting.stdout)).toEqual({ error: { name: 'PermanentError', code: 'INVALID_INPUT', message: expect.stringContaining('DBBACKUP_LOG_LEVEL') } });
  });
});
