/**
 * The CLI as a user runs it: `bin/dbbackup.js` in a child process, in a work directory (so a
 * relative path lands there) with its store and spool under it, one attempt per step (so a failure
 * shows at once, not after the retry policy).
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { LOOPBACK_SERVERS } from './runtime';
import { startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from './etcd';
import { tempDir } from './test-run';

const CLI = path.resolve(__dirname, '../../bin/dbbackup.js');

/** What one CLI run printed and how it exited. */
export interface CliRun { code: number; stdout: string; stderr: string }

export type Cli = (args: string[], env?: NodeJS.ProcessEnv) => Promise<CliRun>;

/**
 * A runner of `dbbackup --store <work>/store ...` with `DBBACKUP_SPOOL_DIR=<work>/spool`, on a
 * host that allows forced restores inside the work directory (`DBBACKUP_RESTORE_ROOTS`).
 * @param work a directory (or a function giving it, for directories made in beforeAll)
 */
export function cliIn(work: string | (() => string)): Cli {
  return function runDbbackup(args, env = {}) {
    const dir = typeof work === 'string' ? work : work();
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, '--store', path.join(dir, 'store'), ...args], {
        cwd: dir,
        env: { ...process.env, DBBACKUP_SPOOL_DIR: path.join(dir, 'spool'), DBBACKUP_RESTORE_ROOTS: dir, DBBACKUP_RESTORE_SERVERS: LOOPBACK_SERVERS.join(','), DBBACKUP_RETRY_ATTEMPTS: '1', ...env },
      }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  };
}

/** What {@link useEtcdCli} gives a test file. */
export interface EtcdCli {
  dbbackup: Cli;
  /** The etcd the tests back up (started in beforeAll). */
  etcd(): TestEtcd;
  /** The work directory holding `store/` and `spool/`. */
  work(): string;
  /** `dbbackup backup` of the etcd as `instance`, expected to succeed; resolves with the backup id. */
  backUp(instance: string): Promise<string>;
}

/**
 * For a CLI test file: a work directory and a real etcd with `keys` keys, made in beforeAll and
 * removed (with every etcd the harness started) in afterAll.
 */
export function useEtcdCli(label: string, keys = 10): EtcdCli {
  let work: string | undefined;
  let etcd: TestEtcd | undefined;
  beforeAll(async () => {
    work = await tempDir(label);
    etcd = await startTestEtcd(label);
    await writeKeys(etcd.client, keys);
  });
  afterAll(async () => {
    await stopAllEtcd();
    if (work) await rm(work, { recursive: true, force: true });
  });
  const required = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useEtcdCli: used outside a test (before beforeAll ran)');
    return value;
  };
  const dbbackup = cliIn(() => required(work));
  const backUp = async (instance: string): Promise<string> => {
    const run = await dbbackup(['--json', 'backup', 'etcd', '--instance', instance, '--config', JSON.stringify({ endpoints: [required(etcd).clientUrl] })]);
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout).backupId as string;
  };
  return { dbbackup, etcd: () => required(etcd), work: () => required(work), backUp };
}
