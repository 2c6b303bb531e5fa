/** S3-only behaviour, against a real s3rver: errors, prefixes, metadata, pagination. */
import path from 'node:path';
import { PermanentError, TransientError } from '../../../core/errors';
import { S3Store } from '../../../core/store/s3-store';
import { freePort } from '../../harness/ports';
import { s3rverObjectPath, s3rverStoreOptions, startS3rver, type S3rverHandle } from '../../harness/s3rver';
import { collect, makeTempDir, rejectionOf, removeDir, sha256Of, writeRandomFile } from '../../fixtures/store/files';
import { readFile, writeFile } from 'node:fs/promises';

describe('S3 store against s3rver', () => {
  let server: S3rverHandle;
  let work: string;
  const opened: S3Store[] = [];

  function open(overrides: Partial<ConstructorParameters<typeof S3Store>[0]> = {}): S3Store {
    const store = new S3Store({ ...s3rverStoreOptions(server), ...overrides });
    opened.push(store);
    return store;
  }

  beforeAll(async () => {
    server = await startS3rver();
  });

  afterAll(async () => {
    for (const store of opened) store.destroy();
    await server.stop();
  });

  beforeEach(async () => {
    work = await makeTempDir('s3');
  });

  afterEach(async () => {
    await removeDir(work);
  });

  describe('errors', () => {
    it('wrong credentials: one-line PermanentError ACCESS_DENIED naming bucket and endpoint', async () => {
      // Prepare
      const store = open({ credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'nope' } });

      // Act
      const onPut = await rejectionOf(store.put('x', 'data'));
      const onHead = await rejectionOf(store.head('x'));

      // Assess
      for (const error of [onPut, onHead]) {
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.code).toBe('ACCESS_DENIED');
        expect(error.message).toContain(`'${server.bucket}'`);
        expect(error.message).toContain(server.endpoint);
        expect(error.message).not.toContain('\n');
      }
      expect(onPut.message).toContain('InvalidAccessKeyId');
    });

    it('a missing object: PermanentError NOT_FOUND naming where it was looked for, the store\'s prefix included', async () => {
      // Prepare
      const store = open({ prefix: 'team/prod' });

      // Act
      const error = await rejectionOf(store.get('backups/gone.bin'));

      // Assess
      expect(error.code).toBe('NOT_FOUND');
      expect(error.message).toContain(`s3://${server.bucket}/team/prod/backups/gone.bin at ${server.endpoint}`);
    });

    it('missing bucket: PermanentError NO_SUCH_BUCKET naming bucket and endpoint', async () => {
      // Prepare
      const store = open({ bucket: 'no-such-bucket' });

      // Act
      const onPut = await rejectionOf(store.put('x', 'data'));
      const onList = await rejectionOf(collect(store.list('')));
      const onGet = await rejectionOf(store.get('x'));

      // Assess
      for (const error of [onPut, onList, onGet]) {
        expect(error).toBeInstanceOf(PermanentError);
        expect(error.code).toBe('NO_SUCH_BUCKET');
        expect(error.message).toContain("'no-such-bucket'");
        expect(error.message).toContain(server.endpoint);
      }
    });

    it('unreachable endpoint: TransientError S3_UNAVAILABLE', async () => {
      // Prepare
      const port = await freePort();
      const store = open({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });

      // Act
      const error = await rejectionOf(store.head('x'));

      // Assess
      expect(error).toBeInstanceOf(TransientError);
      expect(error.code).toBe('S3_UNAVAILABLE');
      expect(error.message).toContain(`127.0.0.1:${port}`);
    });
  });

  describe('prefix and metadata', () => {
    it('keeps a prefixed store’s objects under its prefix and lists them relative to it', async () => {
      // Prepare
      const prefixed = open({ prefix: '/tenant-a/' });
      const whole = open();

      // Act
      await prefixed.put('x/one', '1');
      const relative = await collect(prefixed.list('x/'));
      const absolute = await collect(whole.list('tenant-a/'));

      // Assess
      expect(prefixed.url).toBe(`s3://${server.bucket}/tenant-a`);
      expect(relative.map((o) => o.key)).toEqual(['x/one']);
      expect(absolute.map((o) => o.key)).toEqual(['tenant-a/x/one']);
    });

    it('records the sha256 as object metadata and verifies downloads against it when no hash is given', async () => {
      // Prepare
      const store = open();
      const file = path.join(work, 'f.bin');
      const sha256 = await writeRandomFile(file, 7 * 1024 * 1024);
      await store.putFile('meta/f.bin', file, { checkpointPath: path.join(work, 'cp'), expectedSha256: sha256, partSize: 5 * 1024 * 1024 });
      await store.put('meta/small', 'small body');
      const recorded = [(await store.head('meta/f.bin'))?.sha256, (await store.head('meta/small'))?.sha256];
      const objectFile = s3rverObjectPath(server, 'meta/f.bin');
      const bytes = await readFile(objectFile);
      bytes[0] ^= 1;
      await writeFile(objectFile, bytes);

      // Act
      const error = await rejectionOf(store.getFile('meta/f.bin', path.join(work, 'out.bin')));

      // Assess
      expect(recorded).toEqual([sha256, sha256Of('small body')]);
      expect(error.code).toBe('CHECKSUM_MISMATCH');
    });

    it('follows continuation tokens across list pages', async () => {
      // Prepare
      const store = open({ prefix: 'paged', listPageSize: 2 });
      const keys = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5'];
      for (const key of keys) await store.put(key, key);

      // Act
      const listed = await collect(store.list('p/'));

      // Assess
      expect(listed.map((o) => o.key)).toEqual(keys);
    });
  });
});
