/**
 * Client-side encryption from the CLI as a user runs it: a real process, real etcd, a local store —
 * a backup sealed with a key file, `rekey` to a passphrase (the new key checked before any backup
 * is touched), restores refused without the right secret and done with it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { newBackupId } from '../../../core/catalog/layout';
import path from 'node:path';
import { memberPidFile, stopMember } from '../../../drivers/etcd/member';
import { useEtcdCli } from '../../harness/cli';
import { freeMemberUrls } from '../../harness/etcd';

const { dbbackup, etcd, work } = useEtcdCli('cli-encryption', 50);

const config = () => JSON.stringify({ endpoints: [etcd().clientUrl] });
const PASSPHRASE = { DBBACKUP_TEST_PASSPHRASE: 'correct horse battery staple', DBBACKUP_TEST_SHORT: 'too short' };

describe('dbbackup with client-side encryption', () => {
  it('backs up with a key file, rekeys to a passphrase (a bad new key refused before anything changes), restores only with the passphrase', async () => {
    // Prepare
    const keyFile = path.join(work(), 'backup.key');
    const garbage = path.join(work(), 'garbage.key');
    await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    await writeFile(garbage, 'not a key', { mode: 0o600 });
    const backup = JSON.parse((await dbbackup(['--json', 'backup', 'etcd', '--instance', 'sealed', '--config', config(), '--compress', '--encrypt-key', `file:${keyFile}`])).stdout);
    const restoreWith = async (...secret: string[]) => {
      const dataDir = path.join(work(), `restored-${randomBytes(4).toString('hex')}`, 'data');
      const run = await dbbackup(['restore', backup.backupId, '--target', JSON.stringify({ dataDir, ...(await freeMemberUrls()) }), ...secret], PASSPHRASE);
      await stopMember(memberPidFile(dataDir)).catch(() => undefined);
      return run;
    };

    // Act
    const badKey = await dbbackup(['rekey', '--engine', 'etcd', '--instance', 'sealed', '--to-key', `file:${garbage}`, '--key', `file:${keyFile}`]);
    const shortPassphrase = await dbbackup(['rekey', '--engine', 'etcd', '--instance', 'sealed', '--to-passphrase', 'env:DBBACKUP_TEST_SHORT', '--key', `file:${keyFile}`], PASSPHRASE);
    const stillKey = await restoreWith('--key', `file:${keyFile}`);
    const rekeyed = await dbbackup(['rekey', '--engine', 'etcd', '--instance', 'sealed', '--to-passphrase', 'env:DBBACKUP_TEST_PASSPHRASE', '--key', `file:${keyFile}`], PASSPHRASE);
    const oldKey = await restoreWith('--key', `file:${keyFile}`);
    const passphrase = await restoreWith('--passphrase', 'env:DBBACKUP_TEST_PASSPHRASE');
    const verify = await dbbackup(['verify', backup.backupId]);

    // Assess
    expect(backup.validation.ok).toBe(true);
    expect(backup.stored).toEqual({ bytes: expect.any(Number), compression: 'zstd', encryptedWith: [expect.stringMatching(/^key-file sha256:[0-9a-f]{16}$/)] });
    expect(backup.stored.bytes).toBeLessThan(backup.bytes);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/--to-key: the key file:.*garbage\.key holds no 32-byte key .*\(no backup was touched\)/);
    expect(shortPassphrase.code).toBe(2);
    expect(shortPassphrase.stderr).toMatch(/--to-passphrase: the passphrase env:DBBACKUP_TEST_SHORT is 9 characters: a passphrase of at least 12 characters is needed/);
    expect(stillKey.code).toBe(0);
    expect(rekeyed.code).toBe(0);
    expect(rekeyed.stdout).toMatch(/1 data key rewrapped/);
    expect(oldKey.code).toBe(2);
    expect(oldKey.stderr).toMatch(/KEY_UNAVAILABLE|passphrase/);
    expect(passphrase.code).toBe(0);
    expect(passphrase.stdout).toMatch(/validated/);
    expect(verify.code).toBe(0);
  });

  it('says what a rekey could not reach, an incomplete backup still under the old key, and exits 1; a rerun leaves keys the new one wraps already', async () => {
    // Prepare: a backup with a key file, and an incomplete one beside it (a run that stopped before its manifest)
    const keyFile = path.join(work(), 'rotated.key');
    await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const backup = JSON.parse((await dbbackup(['--json', 'backup', 'etcd', '--instance', 'rotated', '--config', config(), '--encrypt-key', `file:${keyFile}`])).stdout);
    const stopped = newBackupId(new Date(Date.now() + 1000));
    await mkdir(path.join(work(), 'store', 'backups', 'etcd', 'rotated', stopped, 'data', 'default'), { recursive: true });
    await writeFile(path.join(work(), 'store', 'backups', 'etcd', 'rotated', stopped, 'data', 'default', 'snapshot.db'), 'part of a snapshot');
    const rekey = () => dbbackup(['rekey', '--engine', 'etcd', '--instance', 'rotated', '--to-passphrase', 'env:DBBACKUP_TEST_PASSPHRASE', '--key', `file:${keyFile}`], PASSPHRASE);

    // Act
    const first = await rekey();
    const again = await rekey();

    // Assess
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(`${backup.backupId}: 1 data key rewrapped`);
    expect(first.stdout).toContain(`${stopped}: NOT rekeyed, incomplete: still running, or left by a run that stopped: still under the old key`);
    expect(first.stdout).toMatch(/keep the old key until these are rekeyed/);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`${backup.backupId}: wrapped by the new key already, left as it is`);
  });
});
