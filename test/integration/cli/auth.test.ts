/**
 * A refused login is one exit code for every engine: 2 (bad input: the credentials are the
 * user's to fix), with the common code AUTH_FAILED and the driver's own code in the message.
 * Real servers: MariaDB with a password user, etcd with auth enabled.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cliIn } from '../../harness/cli';
import { startTestEtcd, stopAllEtcd, type TestEtcd } from '../../harness/etcd';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';

let work: string;
let etcd: TestEtcd;
let maria: TestMariaDb;
const dbbackup = cliIn(() => work);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-cli-auth-'));
  [etcd, maria] = await Promise.all([startTestEtcd('cli-auth'), startTestMariaDb('cli-auth')]);
  await etcd.client.role('root').create();
  await (await etcd.client.user('root').create('right')).addRole('root');
  await etcd.client.auth.authEnable();
  const admin = await maria.connect();
  await admin.query("CREATE USER 'backup'@'%' IDENTIFIED BY 'right'");
  await admin.end();
});
afterAll(async () => {
  await stopAllEtcd();
  await stopAllMariaDb();
  await rm(work, { recursive: true, force: true });
});

const wrongPassword = { password: { $secret: 'env:DB_PASSWORD' } };

describe('a wrong password', () => {
  it('exits 2 with AUTH_FAILED for etcd and for MariaDB alike, naming the driver code', async () => {
    // Act
    const etcdRun = await dbbackup(['--json', 'backup', 'etcd', '--instance', 'auth',
      '--config', JSON.stringify({ endpoints: [etcd.clientUrl], username: 'root', ...wrongPassword })], { DB_PASSWORD: 'wrong' });
    const mariaRun = await dbbackup(['--json', 'backup', 'mysql', '--instance', 'auth',
      '--config', JSON.stringify({ host: maria.host, port: maria.port, user: 'backup', ...wrongPassword })], { DB_PASSWORD: 'wrong' });

    // Assess
    expect([etcdRun.code, mariaRun.code]).toEqual([2, 2]);
    expect(JSON.parse(etcdRun.stdout).error).toMatchObject({ name: 'PermanentError', code: 'AUTH_FAILED', message: expect.stringContaining('(ETCD_AUTH)') });
    expect(JSON.parse(mariaRun.stdout).error).toMatchObject({ name: 'PermanentError', code: 'AUTH_FAILED', message: expect.stringContaining('(MYSQL_AUTH)') });
    expect(mariaRun.stderr).toMatch(/^dbbackup: connecting to backup@\S+: authentication failed \(MYSQL_AUTH\): the server refused the login .*\[AUTH_FAILED\]$/m);
    expect(etcdRun.stderr + mariaRun.stderr).not.toContain('wrong');
  });
});
