import { PermanentError, TransientError } from '../../../core/errors';
import { mapS3Error } from '../../../core/store/s3-errors';
import { choosePartSize } from '../../../core/store/s3-file-upload';

/** An error shaped like the ones the AWS SDK v3 throws (the real ones are covered against s3rver). */
function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra });
}

const context = { bucket: 'prod-backups', endpoint: 'https://s3.eu-west-1.amazonaws.com' };

describe('mapS3Error', () => {
  it.each([
    ['SlowDown', 503, 'S3_THROTTLED'],
    ['ThrottlingException', 400, 'S3_THROTTLED'],
    ['InternalError', 500, 'S3_UNAVAILABLE'],
    ['ServiceUnavailable', 503, 'S3_THROTTLED'],
    ['SomethingNew', 502, 'S3_UNAVAILABLE'],
    ['RequestTimeout', 400, 'S3_UNAVAILABLE'],
    ['TimeoutError', undefined, 'S3_UNAVAILABLE'],
  ])('%s (HTTP %s) is a TransientError %s', (name, status, code) => {
    // Act
    const mapped = mapS3Error(sdkError(name, status), context);

    // Assess
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped.code).toBe(code);
  });

  it('says no region and no credentials were found as what they are, not as a refusal of the bucket', () => {
    // Act
    const region = mapS3Error(Object.assign(new Error('Region is missing'), { name: 'Error' }), context);
    const credentials = mapS3Error(sdkError('CredentialsProviderError', undefined, { message: 'Could not load credentials from any providers' }), context);

    // Assess
    expect(region).toMatchObject({ name: 'PermanentError', code: 'INVALID_STORE_URL', message: "no AWS region to reach bucket 'prod-backups': set AWS_REGION (or the region of the profile in use)" });
    expect(credentials).toMatchObject({ name: 'PermanentError', code: 'ACCESS_DENIED' });
    expect(credentials.message).toBe("no AWS credentials to reach bucket 'prod-backups' at https://s3.eu-west-1.amazonaws.com: Could not load credentials from any providers (set a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role provides them)");
  });

  it('treats bytes S3 received otherwise than sent (BadDigest) as transient: sent again', () => {
    // Act
    const mapped = mapS3Error(sdkError('BadDigest', 400), { ...context, key: 'team/b1/chunk' });

    // Assess
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped.code).toBe('S3_BAD_DIGEST');
    expect(mapped.message).toContain('s3://prod-backups/team/b1/chunk');
  });

  it.each([
    ['NotImplemented', 501, 'A header you provided implies functionality that is not implemented: x-amz-checksum-crc32'],
    ['InvalidArgument', 400, 'Unsupported header x-amz-checksum-algorithm received for this API call'],
  ])('names the setting that turns checksums off when a server refuses them (%s)', (name, status, message) => {
    // Act
    const mapped = mapS3Error(Object.assign(sdkError(name, status), { message }), context);

    // Assess
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped.code).toBe('S3_CHECKSUMS_REFUSED');
    expect(mapped.message).toContain('DBBACKUP_S3_CHECKSUMS=false');
    expect(mapped.message).toContain(message);
  });

  it('leaves other refusals as they are', () => {
    // Act
    const mapped = mapS3Error(Object.assign(sdkError('InvalidArgument', 400), { message: 'Invalid storage class' }), context);

    // Assess
    expect(mapped.code).toBe('S3_ERROR');
  });

  it('treats socket errors as transient', () => {
    // Act
    const mapped = mapS3Error(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), context);

    // Assess
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped.code).toBe('S3_UNAVAILABLE');
  });

  it.each([
    ['AccessDenied', 403, 'ACCESS_DENIED'],
    ['InvalidAccessKeyId', 403, 'ACCESS_DENIED'],
    ['SignatureDoesNotMatch', 403, 'ACCESS_DENIED'],
    ['Unknown', 403, 'ACCESS_DENIED'],
    ['NoSuchBucket', 404, 'NO_SUCH_BUCKET'],
    ['NoSuchKey', 404, 'NOT_FOUND'],
    ['NotFound', 404, 'NOT_FOUND'],
    ['InvalidArgument', 400, 'S3_ERROR'],
  ])('%s (HTTP %s) is a PermanentError %s with a one-line message naming bucket and endpoint', (name, status, code) => {
    // Act
    const mapped = mapS3Error(sdkError(name, status), context);

    // Assess
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped.code).toBe(code);
    expect(mapped.message).toContain('prod-backups');
    expect(mapped.message).toContain(context.endpoint);
    expect(mapped.message).not.toContain('\n');
  });

  it('passes our own errors through unchanged', () => {
    // Prepare
    const ours = new PermanentError('bad', { code: 'CHECKSUM_MISMATCH' });

    // Act
    const mapped = mapS3Error(ours, context);

    // Assess
    expect(mapped).toBe(ours);
  });
});

describe('choosePartSize', () => {
  it('uses the requested size, never below S3’s 5 MiB minimum', () => {
    // Act
    const sizes = [choosePartSize(100 * 1024 * 1024), choosePartSize(100 * 1024 * 1024, 1024)];

    // Assess
    expect(sizes).toEqual([8 * 1024 * 1024, 5 * 1024 * 1024]);
  });

  it('raises the part size so a huge file needs at most 10 000 parts', () => {
    // Prepare
    const fileSize = 200 * 1024 ** 3;

    // Act
    const partSize = choosePartSize(fileSize);

    // Assess
    expect(Math.ceil(fileSize / partSize)).toBeLessThanOrEqual(10_000);
    expect(partSize).toBeGreaterThan(8 * 1024 * 1024);
  });
});
