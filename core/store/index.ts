/** The blob store: interface, implementations and helpers. */
export * from './blob-store';
export { assertSafeKey, assertSafePrefix } from './keys';
export { TokenBucket, createRateLimiter, throttle, throttleStages, type RateLimit } from './rate-limiter';
export { LocalDirectoryStore } from './local-directory-store';
export { S3Store, type S3StoreOptions } from './s3-store';
export { createS3Client, type S3ClientOptions } from './s3-client';
export { mapS3Error } from './s3-errors';
export { choosePartSize, DEFAULT_PART_SIZE, DEFAULT_CONCURRENCY, type S3Checkpoint } from './s3-file-upload';
export { openStore, s3OptionsFromEnv } from './open-store';
export { readJson, writeJson } from './json';
