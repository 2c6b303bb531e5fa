import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PermanentError } from '../../../core/errors';
import { createSecretResolver, redactSecrets, resolveSecrets, SECRET_STAND_IN, standInResolver, type AwsClientOptions } from '../../../core/secrets';

async function refusal(promise: Promise<unknown>): Promise<PermanentError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PermanentError) return error;
    throw error;
  }
  throw new Error('expected a PermanentError');
}

describe('resolveSecrets', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-secrets-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces env and file references anywhere in the config, leaving the input untouched', async () => {
    // Prepare
    const file = path.join(dir, 'tls-key');
    await writeFile(file, 'KEY-MATERIAL\n');
    const config = {
      endpoints: ['http://db1:2379'],
      auth: { user: 'root', password: { $secret: 'env:ETCD_PASSWORD' } },
      tls: [{ key: { $secret: `file:${file}` } }],
      port: 2379,
      optional: null,
    };
    const resolver = createSecretResolver({ env: { ETCD_PASSWORD: 's3cr3t' } });

    // Act
    const resolved = await resolveSecrets(config, resolver);

    // Assess
    expect(resolved).toEqual({
      endpoints: ['http://db1:2379'],
      auth: { user: 'root', password: 's3cr3t' },
      tls: [{ key: 'KEY-MATERIAL' }],
      port: 2379,
      optional: null,
    });
    expect(config.auth.password).toEqual({ $secret: 'env:ETCD_PASSWORD' });
  });

  it('refuses the schemes it was not given, naming the field and the ref, without reading the file or the variable', async () => {
    // Prepare: the schemes a process in AWS resolves
    const file = path.join(dir, 'host-file');
    await writeFile(file, 'HOST-FILE-CONTENT');
    const resolver = createSecretResolver({ env: { HOST_VAR: 'host-var-value' }, schemes: ['ssm', 'secretsmanager'] });

    // Act
    const env = await refusal(resolveSecrets({ auth: { password: { $secret: 'env:HOST_VAR' } } }, resolver));
    const read = await refusal(resolveSecrets({ key: { $secret: `file:${file}` } }, resolver));

    // Assess
    expect(env).toMatchObject({ code: 'SECRET_REF_REFUSED' });
    expect(env.message).toMatch(/^auth\.password: secret reference 'env:HOST_VAR' is refused: here only ssm: and secretsmanager: references are resolved/);
    expect(read.message).toMatch(new RegExp(`^key: secret reference 'file:${file}' is refused`));
    expect(`${env.message} ${read.message}`).not.toMatch(/host-var-value|HOST-FILE-CONTENT/);
  });

  it('stands a reference in without reading it (a target only parsed), refusing the schemes it was not given all the same', async () => {
    // Prepare: a variable and a file that a resolver would read
    const file = path.join(dir, 'readable');
    await writeFile(file, 'FILE-CONTENT');
    const config = { user: 'root', password: { $secret: 'ssm:/dbbackup/absent' }, key: { $secret: `file:${file}` }, token: { $secret: 'env:SET_VAR' } };
    process.env.SET_VAR = 'env-value';

    try {
      // Act
      const stoodIn = await resolveSecrets(config, standInResolver());
      const refused = await refusal(resolveSecrets(config, standInResolver(['ssm', 'secretsmanager'])));

      // Assess
      expect(stoodIn).toEqual({ user: 'root', password: SECRET_STAND_IN, key: SECRET_STAND_IN, token: SECRET_STAND_IN });
      expect(refused).toMatchObject({ code: 'SECRET_REF_REFUSED', message: expect.stringMatching(/^(key|token): secret reference '(file|env):/) });
    } finally {
      delete process.env.SET_VAR;
    }
  });

  it('fetches each distinct reference once', async () => {
    // Prepare
    const asked: string[] = [];
    const resolver = async (ref: string) => { asked.push(ref); return `value-of-${ref}`; };

    // Act
    const resolved = await resolveSecrets({ a: { $secret: 'env:X' }, b: { $secret: 'env:X' }, c: { $secret: 'env:Y' } }, resolver);

    // Assess
    expect(resolved).toEqual({ a: 'value-of-env:X', b: 'value-of-env:X', c: 'value-of-env:Y' });
    expect(asked.sort()).toEqual(['env:X', 'env:Y']);
  });

  it('refuses an unknown scheme with SECRET_UNRESOLVED naming the reference', async () => {
    // Act
    const error = await refusal(resolveSecrets({ password: { $secret: 'vault:kv/db' } }, createSecretResolver({ env: {} })));

    // Assess
    expect(error.code).toBe('SECRET_UNRESOLVED');
    expect(error.message).toContain("'vault:kv/db'");
    expect(error.message).toContain("unknown scheme 'vault'");
  });

  it('refuses a missing env variable or file', async () => {
    // Prepare
    const resolver = createSecretResolver({ env: {} });

    // Act
    const env = await refusal(resolveSecrets({ p: { $secret: 'env:NOPE' } }, resolver));
    const file = await refusal(resolveSecrets({ p: { $secret: `file:${dir}/absent` } }, resolver));

    // Assess
    expect(env).toMatchObject({ code: 'SECRET_UNRESOLVED', message: "secret 'env:NOPE' could not be resolved: environment variable NOPE is not set" });
    expect(file.code).toBe('SECRET_UNRESOLVED');
    expect(file.message).toContain('ENOENT');
  });

  it('refuses an object that mentions $secret but is not exactly a reference', async () => {
    // Act
    const error = await refusal(resolveSecrets({ auth: { password: { $secret: 'env:P', fallback: 'x' } } }, createSecretResolver({ env: { P: 'v' } })));

    // Assess
    expect(error.code).toBe('SECRET_UNRESOLVED');
    expect(error.message).toContain('auth.password');
  });
});

describe('resolveSecrets from AWS (SSM and Secrets Manager protocol stand-in)', () => {
  let server: Server;
  let aws: AwsClientOptions;
  const requests: { target: string; body: Record<string, unknown> }[] = [];
  const parameters: Record<string, string> = { '/db/prod/password': 'from-ssm' };
  const secrets: Record<string, string> = {
    'prod/db': JSON.stringify({ username: 'app', password: 'from-sm', port: 3306 }),
    plain: 'just-a-string',
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => { raw += chunk.toString(); });
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        const body = JSON.parse(raw) as Record<string, string>;
        requests.push({ target, body });
        const reply = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(payload));
        };
        if (target === 'AmazonSSM.GetParameter' && parameters[body.Name] !== undefined) {
          return reply(200, { Parameter: { Name: body.Name, Type: 'SecureString', Value: parameters[body.Name] } });
        }
        if (target === 'AmazonSSM.GetParameter') return reply(400, { __type: 'ParameterNotFound', message: 'not found' });
        if (target === 'secretsmanager.GetSecretValue' && secrets[body.SecretId] !== undefined) {
          return reply(200, { Name: body.SecretId, SecretString: secrets[body.SecretId] });
        }
        if (target === 'secretsmanager.GetSecretValue') return reply(400, { __type: 'ResourceNotFoundException', message: 'no such secret' });
        return reply(500, { __type: 'InternalFailure', message: target });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    aws = {
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads an SSM parameter with decryption and Secrets Manager strings, whole or one JSON field', async () => {
    // Prepare
    const resolver = createSecretResolver({ env: {}, ssm: aws, secretsManager: aws });
    requests.length = 0;

    // Act
    const resolved = await resolveSecrets({
      ssm: { $secret: 'ssm:/db/prod/password' },
      field: { $secret: 'secretsmanager:prod/db#password' },
      number: { $secret: 'secretsmanager:prod/db#port' },
      whole: { $secret: 'secretsmanager:plain' },
    }, resolver);

    // Assess
    expect(resolved).toEqual({ ssm: 'from-ssm', field: 'from-sm', number: '3306', whole: 'just-a-string' });
    expect(requests).toContainEqual({ target: 'AmazonSSM.GetParameter', body: { Name: '/db/prod/password', WithDecryption: true } });
    expect(requests).toContainEqual({ target: 'secretsmanager.GetSecretValue', body: { SecretId: 'prod/db' } });
  });

  it('names the reference, never the value, when a secret or its field is missing', async () => {
    // Prepare
    const resolver = createSecretResolver({ env: {}, ssm: aws, secretsManager: aws });

    // Act
    const missingParam = await refusal(resolveSecrets({ p: { $secret: 'ssm:/db/absent' } }, resolver));
    const missingField = await refusal(resolveSecrets({ p: { $secret: 'secretsmanager:prod/db#token' } }, resolver));
    const notJson = await refusal(resolveSecrets({ p: { $secret: 'secretsmanager:plain#password' } }, resolver));

    // Assess
    expect(missingParam).toMatchObject({ code: 'SECRET_UNRESOLVED', message: "secret 'ssm:/db/absent' could not be resolved: it does not exist" });
    expect(missingField.message).toBe("secret 'secretsmanager:prod/db#token' could not be resolved: the secret has no string field 'token'");
    expect(notJson.code).toBe('SECRET_UNRESOLVED');
    for (const error of [missingField, notJson]) {
      expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toMatch(/from-sm|just-a-string/);
    }
  });
});

describe('redactSecrets', () => {
  it('masks sensitive keys and URL passwords, keeps secret references, and does not touch the input', () => {
    // Prepare
    const config = {
      host: 'db1',
      user: 'app',
      password: 'hunter2',
      auth: { apiToken: 'tok-123', clientSecret: { nested: 'x' }, privateKey: { $secret: 'file:/etc/key' } },
      dsn: 'mysql://app:hunter2@db1:3306/prod',
      replicas: [{ host: 'db2', Password: 'p2' }],
      dbPassword: { $secret: 'env:DB_PASSWORD' },
    };

    // Act
    const safe = redactSecrets(config);

    // Assess
    expect(safe).toEqual({
      host: 'db1',
      user: 'app',
      password: '***',
      auth: { apiToken: '***', clientSecret: '***', privateKey: { $secret: 'file:/etc/key' } },
      dsn: 'mysql://app:***@db1:3306/prod',
      replicas: [{ host: 'db2', Password: '***' }],
      dbPassword: { $secret: 'env:DB_PASSWORD' },
    });
    expect(config.password).toBe('hunter2');
    expect(JSON.stringify(safe)).not.toMatch(/hunter2|tok-123|p2"/);
  });
});
