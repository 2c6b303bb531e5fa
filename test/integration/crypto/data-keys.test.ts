/**
 * Data keys by envelope (core/crypto/data-keys.ts): a key file, a passphrase, and KMS through the
 * real @aws-sdk/client-kms against the KMS stand-in — each wraps a new data key and unwraps it for
 * the same context only; the wrong key, passphrase or context, a role without the permission, and
 * a missing or malformed key file each fail with a clear error; a KMS key rotated since still
 * unwraps; ReEncrypt moves a wrapped key to another KMS key (rekey) without the data key changing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KMSClient } from '@aws-sdk/client-kms';
import { keyFileProvider, kmsProvider, passphraseProvider, rewrapWithKms, type DataKeyProvider } from '../../../core/crypto/data-keys';
import { openStream, sealStream, sealingParameters } from '../../../core/crypto/sealed-stream';
import { startKmsStandin, type KmsStandin } from '../../harness/kms-standin';

let dir: string;
let kms: KmsStandin;
let client: KMSClient;
const context = { backup: 'mysql/shop/20261204T120000000Z-abcdef' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-data-keys-'));
  kms = await startKmsStandin();
  client = new KMSClient({ ...kms.clientConfig, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await kms?.close();
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, content: Buffer | string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content, { mode: 0o600 });
  return file;
}

async function roundTrip(provider: DataKeyProvider): Promise<void> {
  const { dataKey, wrapped } = await provider.generate(context);
  expect(dataKey).toHaveLength(32);
  expect(JSON.stringify(wrapped)).not.toContain(dataKey.toString('base64'));
  expect((await provider.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
}

describe('a key file', () => {
  it.each([
    ['base64', (key: Buffer) => `${key.toString('base64')}\n`],
    ['hex', (key: Buffer) => key.toString('hex')],
    ['raw bytes', (key: Buffer) => key],
  ] as Array<[string, (key: Buffer) => Buffer | string]>)('in %s wraps and unwraps a data key', async (format, encode) => {
    await roundTrip(keyFileProvider(await keyFile(`key-${format}`, encode(randomBytes(32)))));
  });

  it('refuses another key file, another context, a missing file and one without a key, each saying so', async () => {
    // Prepare
    const mine = keyFileProvider(await keyFile('mine', randomBytes(32).toString('base64')));
    const { wrapped } = await mine.generate(context);

    // Act
    const refusal = (attempt: Promise<unknown>) => attempt.then(() => 'not refused', (error: unknown) => error);
    const other = await refusal(keyFileProvider(await keyFile('other', randomBytes(32).toString('base64'))).unwrap(wrapped, context));
    const elsewhere = await refusal(mine.unwrap(wrapped, { backup: 'mysql/shop/another' }));
    const missing = await refusal(keyFileProvider(path.join(dir, 'nowhere')).generate(context));
    const malformed = await refusal(keyFileProvider(await keyFile('short', 'not a key')).generate(context));

    // Assess
    expect(other).toMatchObject({ code: 'KEY_MISMATCH', message: expect.stringMatching(/wrapped by the key with fingerprint sha256:[0-9a-f]{16}; key file .*other is sha256:/) });
    expect(elsewhere).toMatchObject({ code: 'KEY_MISMATCH', message: expect.stringContaining('copied from another backup') });
    expect(missing).toMatchObject({ code: 'KEY_UNAVAILABLE', message: expect.stringContaining('ENOENT') });
    expect(malformed).toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('openssl rand -base64 32') });
  });
});

describe('a passphrase', () => {
  it('wraps and unwraps a data key, and refuses another passphrase', async () => {
    // Prepare
    const provider = passphraseProvider('correct horse battery staple');
    const { wrapped } = await provider.generate(context);

    // Act
    const wrong = await passphraseProvider('correct horse battery stapler').unwrap(wrapped, context).then(() => 'not refused', (error: unknown) => error);

    // Assess
    await roundTrip(provider);
    expect(wrapped).toMatchObject({ provider: 'passphrase', keyId: 'scrypt', salt: expect.any(String) });
    expect(wrong).toMatchObject({ code: 'KEY_MISMATCH', message: expect.stringContaining('this passphrase') });
    expect(() => passphraseProvider('short')).toThrow(/at least 12 characters/);
  });
});

describe('KMS', () => {
  it('wraps and unwraps a data key under its encryption context, and seals an artifact the restoring side opens', async () => {
    // Prepare
    const keyArn = kms.createKey({ alias: 'dbbackup' });
    const backingUp = kmsProvider(client, 'alias/dbbackup');
    const plain = randomBytes(3 * 1024 * 1024 + 7);
    const name = 'data/shop/t/000000.tsv.zst';

    // Act
    const { dataKey, wrapped } = await backingUp.generate(context);
    const sealed: Buffer[] = [];
    await pipeline(Readable.from([plain]), sealStream(dataKey, name, sealingParameters(dataKey, name, createHash('sha256').update(plain).digest('hex'))), async (s: AsyncIterable<Buffer>) => { for await (const b of s) sealed.push(b); });
    const restoreKey = await kmsProvider(client, keyArn).unwrap(wrapped, context);
    const opened: Buffer[] = [];
    await pipeline(Readable.from([Buffer.concat(sealed)]), openStream(restoreKey, name), async (s: AsyncIterable<Buffer>) => { for await (const b of s) opened.push(b); });

    // Assess
    expect(wrapped).toMatchObject({ provider: 'kms', keyId: keyArn });
    expect(Buffer.concat(opened).equals(plain)).toBe(true);
    const generate = kms.calls.find((c) => c.operation === 'GenerateDataKey');
    expect(generate?.input).toMatchObject({ KeyId: 'alias/dbbackup', KeySpec: 'AES_256', EncryptionContext: context });
  });

  it('refuses another context, a role without kms:Decrypt, and a disabled key, saying which', async () => {
    // Prepare
    const keyArn = kms.createKey();
    const { wrapped } = await kmsProvider(client, keyArn).generate(context);

    const refusal = (attempt: Promise<unknown>) => attempt.then(() => 'not refused', (error: unknown) => error);

    // Act
    const elsewhere = await refusal(kmsProvider(client, keyArn).unwrap(wrapped, { backup: 'mysql/shop/another' }));
    kms.allow(keyArn, ['GenerateDataKey']); // the backing-up side's policy
    const denied = await refusal(kmsProvider(client, keyArn).unwrap(wrapped, context));
    kms.allow(keyArn, ['GenerateDataKey', 'Decrypt']);
    kms.disable(keyArn);
    const disabled = await refusal(kmsProvider(client, keyArn).unwrap(wrapped, context));

    // Assess
    expect(elsewhere).toMatchObject({ code: 'KEY_MISMATCH' });
    expect(denied).toMatchObject({ code: 'KEY_UNAVAILABLE', message: expect.stringContaining('the role needs kms:Decrypt') });
    expect(disabled).toMatchObject({ code: 'KEY_UNAVAILABLE', message: expect.stringContaining('disabled') });
  });

  it('unwraps a key wrapped before the KMS key rotated, and rewraps it under another key without changing it', async () => {
    // Prepare
    const oldKey = kms.createKey();
    const newKey = kms.createKey();
    const { dataKey, wrapped } = await kmsProvider(client, oldKey).generate(context);
    kms.rotate(oldKey);

    // Act
    const afterRotation = await kmsProvider(client, oldKey).unwrap(wrapped, context);
    const moved = await rewrapWithKms(client, wrapped, context, newKey);
    kms.disable(oldKey);
    const underNewKey = await kmsProvider(client, newKey).unwrap(moved, context);

    // Assess
    expect(afterRotation.equals(dataKey)).toBe(true);
    expect(moved).toMatchObject({ provider: 'kms', keyId: newKey });
    expect(underNewKey.equals(dataKey)).toBe(true);
  });
});
