/**
 * The CLI's options for compressed and encrypted backups (bin/key-options.ts): requests as the
 * state machines take them, keys and passphrases only by secret reference.
 */
import { encodingRequest, keysRequest, usageHint } from '../../../bin/key-options';

it('turns the backup options into the request\'s compression and encryption', () => {
  expect(encodingRequest({})).toEqual({});
  expect(encodingRequest({ compress: true })).toEqual({ compression: { codec: 'zstd', level: 3 } });
  expect(encodingRequest({ compress: '9', encryptKms: 'alias/dbbackup' })).toEqual({ compression: { codec: 'zstd', level: 9 }, encryption: { kms: 'alias/dbbackup' } });
  expect(encodingRequest({ encryptKey: 'file:/etc/dbbackup/backup.key' })).toEqual({ encryption: { key: { $secret: 'file:/etc/dbbackup/backup.key' } } });
  expect(encodingRequest({ encryptPassphrase: 'env:PASS' })).toEqual({ encryption: { passphrase: { $secret: 'env:PASS' } } });
});

it('refuses a secret given as a value, two ways of encrypting, and a level zstd has not', () => {
  expect(() => encodingRequest({ encryptKey: 'c2VjcmV0' })).toThrow(/--encrypt-key takes a secret reference .*not the secret itself/);
  expect(() => encodingRequest({ encryptKms: 'alias/a', encryptPassphrase: 'env:P' })).toThrow(/give one of --encrypt-kms, --encrypt-key and --encrypt-passphrase/);
  expect(() => encodingRequest({ compress: '25' })).toThrow(/--compress takes a zstd level from 1 to 19, not 25/);
  for (const odd of ['0x3', '1e1', ' 3', '3.0']) expect(() => encodingRequest({ compress: odd })).toThrow(`--compress takes a zstd level from 1 to 19, not ${odd}`);
  expect(() => keysRequest({ passphrase: 'hunter2' })).toThrow(/--passphrase takes a secret reference/);
});

it('turns the restore options into the request\'s keys (none given: none)', () => {
  expect(keysRequest({})).toEqual({});
  expect(keysRequest({ key: 'file:/k', passphrase: 'env:P' })).toEqual({ keys: { key: { $secret: 'file:/k' }, passphrase: { $secret: 'env:P' } } });
});

describe('usage hints', () => {
  it('says when --compress took the next argument as its level, and nothing otherwise', () => {
    const missing = "error: missing required argument 'engine'\n";

    expect(usageHint(missing, ['node', 'dbbackup', 'backup', '--compress', 'etcd', '--instance', 'x'])).toBe("error: missing required argument 'engine' (--compress took 'etcd' as its level: put --compress after the arguments, or give it a level: --compress 3)\n");
    expect(usageHint(missing, ['node', 'dbbackup', 'backup', '--compress', '3'])).toBe(missing);
    expect(usageHint(missing, ['node', 'dbbackup', 'backup', '--instance', 'x'])).toBe(missing);
    expect(usageHint("error: unknown option '--level'\n", ['backup', '--compress', 'etcd'])).toBe("error: unknown option '--level'\n");
  });

  it('names the key option of the other side', () => {
    expect(usageHint("error: unknown option '--key'\n", ['backup', 'etcd', '--key', 'file:k'])).toMatch(/unknown option '--key' \(did you mean --encrypt-key\? backups are encrypted with/);
    expect(usageHint("error: unknown option '--encrypt-passphrase'\n", ['restore', 'latest'])).toMatch(/did you mean --passphrase\?/);
  });
});
