/**
 * The S3 endpoint the integration tests use: a fresh s3rver by default, or, when
 * `DBBACKUP_TEST_S3_ENDPOINT` is set (e.g. by `npm run test:localstack`), that endpoint (LocalStack
 * or real AWS) with a new bucket. Either way the code under test talks S3 through the real SDK.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../core/store/s3-client';
import { startS3rver } from './s3rver';

export interface TestS3 {
  /** Environment for `settingsFromEnv`/`s3OptionsFromEnv`: endpoint, region, credentials. */
  env: NodeJS.ProcessEnv;
  bucket: string;
  /** A store URL under a fresh prefix. */
  storeUrl(): string;
  stop(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const external = process.env.DBBACKUP_TEST_S3_ENDPOINT;
  const storeUrlIn = (bucket: string) => () => `s3://${bucket}/test-${randomBytes(4).toString('hex')}`;
  if (external) {
    const env = {
      AWS_ENDPOINT_URL_S3: external,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    };
    const bucket = `dbbackup-test-${randomBytes(4).toString('hex')}`;
    const client = createS3Client({ endpoint: external, region: env.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    return { env, bucket, storeUrl: storeUrlIn(bucket), stop: async () => undefined };
  }
  const server = await startS3rver('backups');
  return {
    env: { AWS_ENDPOINT_URL_S3: server.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    bucket: server.bucket,
    storeUrl: storeUrlIn(server.bucket),
    stop: () => server.stop(),
  };
}
