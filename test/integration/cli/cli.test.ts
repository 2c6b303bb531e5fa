/**
 * The CLI as a user runs it: a real process, real etcd, a local store. Exit codes are part of the
 * contract (0 ok, 1 failed, 2 bad input, 3 unavailable), and errors are one clear line.
 */
import { BUILTIN_DRIVERS } from '../../../drivers';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { LOADED_ON_FIRST_USE } from '../../../scripts/cli-bundle';
import { useEtcdCli } from '../../harness/cli';
import { startCli } from '../../harness/cli-process';
import { freeMemberUrls } from '../../harness/etcd';

const { dbbackup, etcd, work } = useEtcdCli('cli', 100);

const config = () => JSON.stringify({ endpoints: [etcd().clientUrl] });

describe('dbbackup CLI', () => {
  it('backs up, lists, shows, verifies and restores with --json output', async () => {
    // Act
    const backup = await dbbackup(['--json', 'backup', 'etcd', '--instance', 'cli', '--config', config()]);
    const summary = JSON.parse(backup.stdout);
    const list = JSON.parse((await dbbackup(['--json', 'list', '--engine', 'etcd'])).stdout);
    const show = await dbbackup(['show', 'latest', '--engine', 'etcd', '--instance', 'cli']);
    const verify = await dbbackup(['verify', summary.backupId]);
    const dataDir = path.join(work(), 'restored', 'data');
    const restore = await dbbackup(['--json', 'restore', 'latest', '--engine', 'etcd', '--instance', 'cli', '--target', JSON.stringify({ dataDir, ...(await freeMemberUrls()) })]);
    await stopMember(memberPidFile(dataDir));

    // Assess
    expect(backup.code).toBe(0);
    expect(summary).toMatchObject({ engine: 'etcd', instance: 'cli', validation: { ok: true } });
    expect(list.map((e: { backupId: string }) => e.backupId)).toContain(summary.backupId);
    expect(show.stdout).toContain(`backup ${summary.backupId}`);
    expect(show.stdout).toMatch(/revision/);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('ok');
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ backupId: summary.backupId, validation: { ok: true } });
  });

  it('loads the client of the engine it backs up when first used, and no other engine\'s nor the AWS SDK (not even the local runner\'s Lambda client) nor the runner\'s definition validator', async () => {
    // Prepare: a preload that writes down, as the process exits, every package it loaded
    const loadedFile = path.join(work(), 'loaded.json');
    const preload = path.join(work(), 'record-loaded.js');
    await writeFile(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(loadedFile)},
      JSON.stringify(Object.keys(require.cache).map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file)?.[1]).filter(Boolean))));`);

    // Act
    const backup = await dbbackup(['backup', 'etcd', '--instance', 'loads', '--config', config()], { NODE_OPTIONS: `--require ${preload}` });

    // Assess
    expect(backup.code).toBe(0);
    const loaded = new Set(JSON.parse(await readFile(loadedFile, 'utf8')) as string[]);
    expect(loaded.has('etcd3')).toBe(true);
    const packageOf = (name: string) => /^(?:@[^/]+\/)?[^/]+/.exec(name)![0]; // mysql2/promise: mysql2
    expect(LOADED_ON_FIRST_USE.map(packageOf).filter((name) => name !== 'etcd3' && loaded.has(name))).toEqual([]);
    // Nor the SDK's core, which the local state machine runner's Lambda client would load (a stand-in until used).
    expect([...loaded].filter((name) => name.startsWith('@smithy/'))).toEqual([]);
    // Nor the definition validator the runner loads (ajv under it): the shipped definition is not validated again.
    expect(loaded.has('ajv')).toBe(false);
  });

  it('hands all it wrote to a pipe before it exits, however much (a pipe takes 64 KiB at once)', async () => {
    // Prepare: 1 MB written as the CLI loads, before the command's own output
    const preload = path.join(work(), 'write-a-megabyte.js');
    await writeFile(preload, `process.stdout.write('x'.repeat(1_000_000) + '\\n');`);

    // Act
    const list = await dbbackup(['--json', 'list', '--engine', 'etcd'], { NODE_OPTIONS: `--require ${preload}` });

    // Assess: the megabyte and the list after it, whole
    expect(list.code).toBe(0);
    const end = list.stdout.indexOf('\n');
    expect(end).toBe(1_000_000);
    expect(Array.isArray(JSON.parse(list.stdout.slice(end + 1)))).toBe(true);
  });

  it('stops quietly when its reader does (`| head`): no EPIPE stack trace, the command\'s own exit code', async () => {
    // Prepare: 1 MB written as the CLI loads, more than a pipe holds
    const preload = path.join(work(), 'write-a-megabyte-too.js');
    await writeFile(preload, `process.stdout.write('x'.repeat(1_000_000) + '\\n');`);
    const run = startCli(['--store', path.join(work(), 'store'), '--json', 'list'], { NODE_OPTIONS: `--require ${preload}` });

    // Act: the reader takes the first bytes and goes away
    run.child.stdout!.once('data', () => run.child.stdout!.destroy());
    const { code, signal, stderr } = await run.exited;

    // Assess
    expect([code, signal]).toEqual([0, null]);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });

  it('says it was interrupted (Ctrl-C), with --json too, and exits 130', async () => {
    // Prepare: an etcd endpoint that accepts connections and never answers, so the backup waits in its snapshot step
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const run = startCli(['--store', path.join(work(), 'store'), '--json', '--log-level', 'info', 'backup', 'etcd', '--instance', 'interrupted', '--config', JSON.stringify({ endpoints: [endpoint] })],
      { DBBACKUP_SPOOL_DIR: path.join(work(), 'spool') });

    // Act: once its first step has returned
    run.child.stderr!.on('data', function interruptOnce(chunk: Buffer) {
      if (!chunk.toString().includes('"step returned"')) return;
      run.child.stderr!.off('data', interruptOnce);
      run.child.kill('SIGINT');
    });
    const { code, stdout, stderr } = await run.exited;
    silent.close();

    // Assess
    expect(code).toBe(130);
    expect(stderr).toMatch(/^dbbackup: interrupted by SIGINT, stopped where it was: run the command again/m);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'INTERRUPTED' } });
  });

  it('says what an interrupted restore may have left and how to finish it: the same restore again, with --force where the rerun finds part of the backup', async () => {
    // Prepare: a backup, restored slowly enough to be interrupted while it downloads
    const backup = JSON.parse((await dbbackup(['--json', 'backup', 'etcd', '--instance', 'interrupted-restore', '--config', config()])).stdout) as { backupId: string };
    const target = JSON.stringify({ dataDir: path.join(work(), 'interrupted-restore', 'data'), ...(await freeMemberUrls()) });
    const run = startCli(['--store', path.join(work(), 'store'), '--log-level', 'info', 'restore', backup.backupId, '--target', target, '--rate-limit', '1KB/s'],
      { DBBACKUP_SPOOL_DIR: path.join(work(), 'spool'), DBBACKUP_RESTORE_ROOTS: work() });

    // Act
    run.child.stderr!.on('data', function interruptOnce(chunk: Buffer) {
      if (!chunk.toString().includes('"step returned"')) return;
      run.child.stderr!.off('data', interruptOnce);
      run.child.kill('SIGINT');
    });
    const { code, stderr } = await run.exited;

    // Assess
    expect(code).toBe(130);
    expect(stderr).toMatch(/^dbbackup: interrupted by SIGINT, stopped where it was: run the same restore again — a target it had not begun writing \(it was still downloading\) is as it was; one holding part of the backup \(an unfinished restore\) is refused by a rerun without --force \(TARGET_NOT_EMPTY, naming what it holds\): then run it with --force/m);
  });

  it('prints its version, the one in its package.json', async () => {
    // Act
    const version = await dbbackup(['--version']);

    // Assess
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(await readFile(path.join(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version);
  });

  it('exits 2 with one clear line for bad input', async () => {
    const unknown = await dbbackup(['backup', 'nosuch', '--instance', 'x', '--config', '{}']);
    const malformed = await dbbackup(['backup', 'etcd', '--instance', 'x', '--config', '{"endpoints": [']);
    const missing = await dbbackup(['restore', '20200101T000000Z-000000', '--target', '{}']);
    const usage = await dbbackup(['backup', 'etcd']);

    expect([unknown.code, malformed.code, missing.code, usage.code]).toEqual([2, 2, 2, 2]);
    expect(unknown.stderr).toContain(`unknown engine 'nosuch'; known engines: ${BUILTIN_DRIVERS.map((d) => d.plugin.manifest.name).sort().join(', ')}`);
    expect(malformed.stderr).toMatch(/--config is not valid JSON/);
    expect(missing.stderr).toMatch(/backup 20200101T000000Z-000000 not found/);
    expect(usage.stderr).toMatch(/required option '--instance <name>'/);
  });

  it('exits 3 when the database is unreachable, and nothing is marked complete', async () => {
    // Two attempts: the retry's wait (up to 5 s) is said while it waits, not only at the end.
    const run = await dbbackup(['backup', 'etcd', '--instance', 'down', '--config', JSON.stringify({ endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 500 })], { DBBACKUP_RETRY_ATTEMPTS: '2' });
    const list = JSON.parse((await dbbackup(['--json', 'list', '--instance', 'down', '--engine', 'etcd'])).stdout);

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/ETCD_UNAVAILABLE/);
    expect(run.stderr.match(/Snapshot failed; retrying in up to 5 s \(retry 1 of 1\)[^\n]*TransientError/g)).toHaveLength(1);
    expect(list).toEqual([]);
  });

  it('refuses a non-empty restore target unless --force', async () => {
    // Prepare
    const backup = JSON.parse((await dbbackup(['--json', 'backup', 'etcd', '--instance', 'force', '--config', config()])).stdout);
    const dataDir = path.join(work(), 'occupied', 'data');
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'member'), 'old data');
    const target = JSON.stringify({ dataDir, ...(await freeMemberUrls()) });

    // Act
    const refused = await dbbackup(['restore', backup.backupId, '--target', target]);
    const forced = await dbbackup(['restore', backup.backupId, '--target', target, '--force']);
    await stopMember(memberPidFile(dataDir));

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/validated/);
  });

  // @needs-every-engine: the demo backs up and restores every built-in engine (test/harness/engines-needed.cjs).
  it('runs the Quick start demo: backup, then a drill (restore into a scratch server, validate, tear down), with RPO and RTO', async () => {
    const demo = await dbbackup(['--json', 'demo']);
    const report = JSON.parse(demo.stdout);
    const listed = JSON.parse((await dbbackup(['--json', 'list', '--instance', 'demo'])).stdout) as Array<{ backupId: string; drill?: { ok: boolean } }>;

    expect(demo.code).toBe(0);
    const results = report.results as Array<{ engine: string; ok: boolean; validation: string; backupId: string; rpoMs: number; restoreMs: number }>;
    expect(results.map((r) => [r.engine, r.ok])).toEqual(BUILTIN_DRIVERS.map((d) => [d.plugin.manifest.name, true]));
    for (const r of results) {
      expect(r.restoreMs).toBeGreaterThan(0);
      expect(r.rpoMs).toBeGreaterThanOrEqual(0);
      expect(listed.find((e) => e.backupId === r.backupId)?.drill).toMatchObject({ ok: true });
    }
    expect(results.find((r) => r.engine === 'etcd')?.validation).toMatch(/kv-digest:ok/);
    expect(results.find((r) => r.engine === 'mysql')?.validation).toMatch(/table-digests:ok/);
  });

  it('prune is a dry run unless --apply', async () => {
    const dry = await dbbackup(['prune', '--keep-last', '1', '--engine', 'etcd']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/run again with --apply/);
    const bad = await dbbackup(['prune']);
    expect(bad.code).toBe(2);
  });

  it('prune sweeps the pool objects no manifest lists once they are older than the grace period, and reports each pool', async () => {
    // Prepare: an orphan three days old in the pool of etcd/cli (a backup that failed after pooling it)
    const orphan = path.join(work(), 'store', 'pool', 'etcd', 'cli', 'a'.repeat(64));
    await mkdir(path.dirname(orphan), { recursive: true });
    await writeFile(orphan, 'left by a failed backup');
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    await utimes(orphan, threeDaysAgo, threeDaysAgo);

    // Act
    const dry = await dbbackup(['--json', 'prune', '--keep-last', '5', '--engine', 'etcd', '--instance', 'cli']);
    const longerGrace = await dbbackup(['--json', 'prune', '--keep-last', '5', '--engine', 'etcd', '--instance', 'cli', '--pool-grace', '4d']);
    const applied = await dbbackup(['prune', '--keep-last', '5', '--engine', 'etcd', '--instance', 'cli', '--apply']);

    // Assess: swept past the default 48 h; kept as young under a 4-day grace
    const pools = (run: { stdout: string }) => JSON.parse(run.stdout).filter((d: { kind: string }) => d.kind === 'pool');
    expect(pools(dry)).toEqual([
      { kind: 'pool', engine: 'etcd', instance: 'cli', applied: false, kept: { objects: 0, bytes: 0 }, swept: { objects: 1, bytes: 23 }, young: { objects: 0, bytes: 0 } },
    ]);
    expect(pools(longerGrace)).toEqual([expect.objectContaining({ swept: { objects: 0, bytes: 0 }, young: { objects: 1, bytes: 23 } })]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/swept 1 \(23 B\)\s+etcd\/cli: kept 0 \(0 B\) listed by a manifest/);
    await expect(stat(orphan)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
