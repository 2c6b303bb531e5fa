/**
 * Turns a store URL into a {@link BlobStore}: `s3://bucket/optional/prefix` is an {@link S3Store};
 * `file:///abs/path` or a plain path is a {@link LocalDirectoryStore}.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PermanentError } from '../errors';
import { awsRegionFromEnv } from '../aws/region';
import { parseSwitch } from '../config/switch';
import type { BlobStore } from './blob-store';
import { LocalDirectoryStore } from './local-directory-store';
import type { S3ClientOptions } from './s3-client';
import { S3Store } from './s3-store';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HAS_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * Opens the store `url` points at. `s3Options` (see {@link s3OptionsFromEnv}) say how to reach S3.
 * Throws PermanentError `INVALID_STORE_URL` for anything else.
 */
export function openStore(url: string, s3Options: S3ClientOptions = {}): BlobStore {
  const trimmed = url.trim();
  if (trimmed.startsWith('s3://')) return openS3(trimmed, s3Options);
  if (trimmed.startsWith('file:')) return openFileUrl(trimmed);
  if (trimmed.length === 0 || (HAS_SCHEME.test(trimmed) && !/^[a-zA-Z]:[\\/]/.test(trimmed))) {
    throw invalidUrl(url, 'expected s3://bucket/prefix, file:///absolute/path or a directory path');
  }
  return new LocalDirectoryStore(path.resolve(trimmed));
}

function openS3(url: string, s3Options: S3ClientOptions): S3Store {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/.exec(url);
  const bucket = match?.[1] ?? '';
  if (!BUCKET_NAME.test(bucket)) throw invalidUrl(url, `'${bucket}' is not a valid bucket name`);
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  try {
    return new S3Store({ ...s3Options, bucket, prefix });
  } catch (error) {
    throw invalidUrl(url, error instanceof Error ? error.message : String(error));
  }
}

function openFileUrl(url: string): LocalDirectoryStore {
  let dir: string;
  try {
    dir = fileURLToPath(url);
  } catch (error) {
    throw invalidUrl(url, error instanceof Error ? error.message : String(error));
  }
  return new LocalDirectoryStore(dir);
}

function invalidUrl(url: string, why: string): PermanentError {
  return new PermanentError(`invalid store URL ${JSON.stringify(url)}: ${why}`, { code: 'INVALID_STORE_URL' });
}

/**
 * S3 connection options from environment variables — the only place the store reads them:
 * `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (custom endpoint), the region (see core/aws/region.ts),
 * `DBBACKUP_S3_FORCE_PATH_STYLE` (on/off, core/config/switch.ts `parseSwitch`; default on when an endpoint is set).
 * Credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) from the given
 * env when both are set, else the SDK's provider chain (instance/Lambda roles, profiles, SSO).
 */
export function s3OptionsFromEnv(env: NodeJS.ProcessEnv): S3ClientOptions {
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const region = awsRegionFromEnv(env);
  const forcePathStyle = parseSwitch('DBBACKUP_S3_FORCE_PATH_STYLE', env.DBBACKUP_S3_FORCE_PATH_STYLE) ?? endpoint !== undefined;
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined;
  const off = parseSwitch('DBBACKUP_S3_CHECKSUMS', env.DBBACKUP_S3_CHECKSUMS) === false;
  return { endpoint, ...(region ? { region } : {}), forcePathStyle, ...(credentials ? { credentials } : {}), ...(off ? { checksums: false } : {}) };
}

/**
 * Where this process's KMS client connects (the data keys of encrypted backups): `AWS_ENDPOINT_URL_KMS`
 * (else `AWS_ENDPOINT_URL`: LocalStack, a stand-in), the region and credentials as S3's.
 */
export function kmsOptionsFromEnv(env: NodeJS.ProcessEnv): { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } } {
  const { region, credentials } = s3OptionsFromEnv(env);
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_KMS) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  return { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim().length > 0 ? value.trim() : undefined;
}
