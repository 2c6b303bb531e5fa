import path from 'node:path';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { openStore, s3OptionsFromEnv } from '../../../core/store/open-store';
import { S3Store } from '../../../core/store/s3-store';

describe('openStore', () => {
  it('opens s3://bucket/prefix as an S3 store with the prefix normalised', () => {
    // Act
    const store = openStore('s3://my-backups/prod/etcd/', { endpoint: 'http://127.0.0.1:9', forcePathStyle: true });

    // Assess
    expect(store).toBeInstanceOf(S3Store);
    const s3 = store as S3Store;
    expect(s3.bucket).toBe('my-backups');
    expect(s3.prefix).toBe('prod/etcd/');
    expect(s3.url).toBe('s3://my-backups/prod/etcd');
    s3.destroy();
  });

  it('opens s3://bucket without a prefix', () => {
    // Act
    const store = openStore('s3://my-backups') as S3Store;

    // Assess
    expect(store.prefix).toBe('');
    expect(store.url).toBe('s3://my-backups');
    store.destroy();
  });

  it('opens file:///abs and plain paths as local directory stores', () => {
    // Act
    const fromUrl = openStore('file:///var/backups/db');
    const fromAbsolute = openStore('/var/backups/db');
    const fromRelative = openStore('backups');

    // Assess
    expect(fromUrl).toBeInstanceOf(LocalDirectoryStore);
    expect((fromUrl as LocalDirectoryStore).root).toBe('/var/backups/db');
    expect(fromUrl.url).toBe('file:///var/backups/db');
    expect((fromAbsolute as LocalDirectoryStore).root).toBe('/var/backups/db');
    expect((fromRelative as LocalDirectoryStore).root).toBe(path.resolve('backups'));
  });

  it.each(['', 'http://example.com/x', 'gs://bucket/x', 's3://', 's3://Bad_Bucket/x', 's3://my-bucket/../x', 'file://host/share'])(
    'refuses %j with INVALID_STORE_URL',
    (url) => {
      // Act
      const open = () => openStore(url);

      // Assess
      expect(open).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'INVALID_STORE_URL' }));
    },
  );
});

describe('s3OptionsFromEnv', () => {
  it('defaults to AWS with virtual-hosted URLs, the region left to the SDK\'s configuration (never a made-up us-east-1)', () => {
    // Act
    const options = s3OptionsFromEnv({});

    // Assess
    expect(options).toEqual({ endpoint: undefined, forcePathStyle: false });
  });

  it('prefers AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL and turns on path style for a custom endpoint', () => {
    // Act
    const options = s3OptionsFromEnv({
      AWS_ENDPOINT_URL: 'http://general:1',
      AWS_ENDPOINT_URL_S3: 'http://s3-only:2',
      AWS_REGION: 'eu-west-3',
    });

    // Assess
    expect(options).toEqual({ endpoint: 'http://s3-only:2', region: 'eu-west-3', forcePathStyle: true });
  });

  it('lets DBBACKUP_S3_FORCE_PATH_STYLE override the default either way', () => {
    // Act
    const off = s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://minio:9000', DBBACKUP_S3_FORCE_PATH_STYLE: 'false' });
    const on = s3OptionsFromEnv({ DBBACKUP_S3_FORCE_PATH_STYLE: 'true' });

    // Assess
    expect(off.forcePathStyle).toBe(false);
    expect(off.endpoint).toBe('http://minio:9000');
    expect(on.forcePathStyle).toBe(true);
  });

  it('reads DBBACKUP_S3_FORCE_PATH_STYLE as the other switches do, and refuses a typo rather than reading it as off', () => {
    // Act
    const words = ['on', 'Off', 'yes', '0'].map((value) => s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://minio:9000', DBBACKUP_S3_FORCE_PATH_STYLE: value }).forcePathStyle);
    const typo = () => s3OptionsFromEnv({ DBBACKUP_S3_FORCE_PATH_STYLE: 'ture' });

    // Assess
    expect(words).toEqual([true, false, true, false]);
    expect(typo).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining("DBBACKUP_S3_FORCE_PATH_STYLE must be true or false") }));
  });

  it('asks S3 checksums unless DBBACKUP_S3_CHECKSUMS turns them off, and refuses a value it does not know', () => {
    // Act
    const options = ['', 'true', 'on', 'false', 'NO', '0', 'Off'].map((value) => s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://r2:9000', DBBACKUP_S3_CHECKSUMS: value }).checksums);
    const unknown = (() => { try { s3OptionsFromEnv({ DBBACKUP_S3_CHECKSUMS: 'disabled' }); return undefined; } catch (error) { return error as { code?: string; message: string }; } })();

    // Assess
    expect(options).toEqual([undefined, undefined, undefined, false, false, false, false]);
    expect(unknown).toMatchObject({ code: 'INVALID_INPUT', message: "DBBACKUP_S3_CHECKSUMS must be true or false (or on/off, yes/no, 1/0); got 'disabled'" });
  });
});
