/**
 * A KMS stand-in for tests: the JSON 1.1 protocol (`TrentService.<Operation>`) on 127.0.0.1, well
 * enough for the real @aws-sdk/client-kms. Operations: GenerateDataKey, Decrypt, ReEncrypt.
 *
 * Behaviour copied from KMS:
 * - one region, one account: a request signed for another region is refused;
 * - keys by ARN, key id or alias (`alias/<name>`); a missing key is `NotFoundException`, a disabled
 *   one `DisabledException`;
 * - a ciphertext blob names its key and key version: Decrypt needs no KeyId, and a KeyId that is
 *   not the blob's is `IncorrectKeyException`; a changed blob or another encryption context is
 *   `InvalidCiphertextException`;
 * - rotation adds a key version: new data keys use it, old blobs still decrypt;
 * - each key lists the operations callers may run on it (a key policy reduced to that): any other
 *   is `AccessDeniedException`, as a role without the permission gets.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { AwsFault, startAwsJsonEndpoint, type RecordedCall, type StandinClientConfig } from './aws-json-endpoint';

export type KmsOperation = 'GenerateDataKey' | 'Decrypt' | 'ReEncryptFrom' | 'ReEncryptTo';

interface StandinKey {
  arn: string;
  versions: Buffer[];
  enabled: boolean;
  allowed: Set<KmsOperation>;
}

export interface KmsStandin {
  clientConfig: StandinClientConfig;
  calls: RecordedCall[];
  /** Creates a key; `alias` makes `alias/<alias>` name it too. Returns its ARN. */
  createKey(options?: { alias?: string; allowed?: KmsOperation[] }): string;
  /** Adds a key version (automatic rotation's effect). */
  rotate(keyId: string): void;
  disable(keyId: string): void;
  /** Sets the operations callers may run on the key. */
  allow(keyId: string, operations: KmsOperation[]): void;
  close(): Promise<void>;
}

const ALL: KmsOperation[] = ['GenerateDataKey', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo'];

export async function startKmsStandin(options: { region?: string; account?: string } = {}): Promise<KmsStandin> {
  const region = options.region ?? 'eu-west-1';
  const account = options.account ?? '123456789012';
  const keys = new Map<string, StandinKey>();
  const aliases = new Map<string, string>();
  const byIndex: StandinKey[] = [];

  const keyOf = (id: unknown): StandinKey => {
    const name = String(id ?? '');
    const arn = name.startsWith('alias/') ? aliases.get(name) : name.startsWith('arn:') ? name : `arn:aws:kms:${region}:${account}:key/${name}`;
    const key = arn ? keys.get(arn) : undefined;
    if (!key) throw new AwsFault('NotFoundException', `Key '${name}' does not exist`);
    return key;
  };
  const check = (key: StandinKey, operation: KmsOperation) => {
    if (!key.allowed.has(operation)) throw new AwsFault('AccessDeniedException', `User: arn:aws:sts::${account}:assumed-role/standin is not authorized to perform: kms:${operation} on resource: ${key.arn}`);
    if (!key.enabled) throw new AwsFault('DisabledException', `${key.arn} is disabled.`);
  };
  const context = (value: unknown) => Buffer.from(JSON.stringify(Object.entries((value ?? {}) as Record<string, string>).sort()));

  /** A blob: key index (2 bytes), version (1), nonce (12), the data key sealed with the version's material, the context as associated data. */
  const encrypt = (key: StandinKey, plaintext: Buffer, encryptionContext: unknown): string => {
    const version = key.versions.length - 1;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.versions[version], nonce);
    cipher.setAAD(context(encryptionContext));
    const head = Buffer.alloc(3);
    head.writeUInt16BE(byIndex.indexOf(key), 0);
    head[2] = version;
    return Buffer.concat([head, nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('base64');
  };
  const decrypt = (blob: unknown, encryptionContext: unknown, keyId: unknown): { key: StandinKey; plaintext: Buffer } => {
    const bytes = Buffer.from(String(blob ?? ''), 'base64');
    const key = bytes.length > 31 ? byIndex[bytes.readUInt16BE(0)] : undefined;
    const material = key?.versions[bytes[2]];
    if (!key || !material) throw new AwsFault('InvalidCiphertextException', 'The ciphertext is not valid');
    if (keyId !== undefined && keyOf(keyId) !== key) throw new AwsFault('IncorrectKeyException', 'The key ID in the request does not identify the key used to encrypt the ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', material, bytes.subarray(3, 15));
    decipher.setAAD(context(encryptionContext));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    try {
      return { key, plaintext: Buffer.concat([decipher.update(bytes.subarray(15, bytes.length - 16)), decipher.final()]) };
    } catch {
      throw new AwsFault('InvalidCiphertextException', 'The ciphertext or encryption context is not valid');
    }
  };

  const server = await startAwsJsonEndpoint({
    region, service: 'kms', targetPrefix: 'TrentService.', jsonVersion: '1.1',
    operations: {
      GenerateDataKey: (input) => {
        const key = keyOf(input.KeyId);
        check(key, 'GenerateDataKey');
        if (input.KeySpec !== 'AES_256' && input.NumberOfBytes !== 32) throw new AwsFault('ValidationException', 'KeySpec AES_256 or NumberOfBytes 32 expected here');
        const plaintext = randomBytes(32);
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), CiphertextBlob: encrypt(key, plaintext, input.EncryptionContext) };
      },
      Decrypt: (input) => {
        const { key, plaintext } = decrypt(input.CiphertextBlob, input.EncryptionContext, input.KeyId);
        check(key, 'Decrypt');
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      },
      ReEncrypt: (input) => {
        const { key: from, plaintext } = decrypt(input.CiphertextBlob, input.SourceEncryptionContext, input.SourceKeyId);
        check(from, 'ReEncryptFrom');
        const to = keyOf(input.DestinationKeyId);
        check(to, 'ReEncryptTo');
        return { SourceKeyId: from.arn, KeyId: to.arn, CiphertextBlob: encrypt(to, plaintext, input.DestinationEncryptionContext) };
      },
    },
  });

  return {
    clientConfig: server.clientConfig,
    calls: server.calls,
    createKey({ alias, allowed = ALL } = {}) {
      const arn = `arn:aws:kms:${region}:${account}:key/${randomUUID()}`;
      const key: StandinKey = { arn, versions: [randomBytes(32)], enabled: true, allowed: new Set(allowed) };
      keys.set(arn, key);
      byIndex.push(key);
      if (alias) aliases.set(`alias/${alias}`, arn);
      return arn;
    },
    rotate: (keyId) => { keyOf(keyId).versions.push(randomBytes(32)); },
    disable: (keyId) => { keyOf(keyId).enabled = false; },
    allow: (keyId, operations) => { keyOf(keyId).allowed = new Set(operations); },
    close: () => server.close(),
  };
}
