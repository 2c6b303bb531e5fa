/**
 * The SSM stand-in's `aws:downloadContent` from S3: the object an HTTPS S3 URL names, read with
 * the instance's role (here: an S3-compatible endpoint and its credentials), saved under its own
 * name in the destination directory — as the SSM agent does.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** How the instances reach S3. */
export interface InstanceS3 {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** `https://s3.<region>.amazonaws.com/<bucket>/<key>` or `https://<bucket>.s3.<region>.amazonaws.com/<key>`. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const parsed = new URL(url);
  const virtual = /^(.+)\.s3[.-]/.exec(parsed.hostname);
  const parts = parsed.pathname.slice(1).split('/').map(decodeURIComponent);
  if (virtual) return { bucket: virtual[1], key: parts.join('/') };
  if (!/^s3[.-]/.test(parsed.hostname) || parts.length < 2) throw new Error(`not an S3 object URL: ${url}`);
  return { bucket: parts[0], key: parts.slice(1).join('/') };
}

/** Saves the object `url` names as `<directory>/<basename of its key>`. */
export async function downloadFromS3(url: string, directory: string, s3: InstanceS3 | undefined): Promise<void> {
  if (!s3) throw new Error('this stand-in has no S3 for its instances (instanceS3)');
  const { bucket, key } = parseS3Url(url);
  const client = new S3Client({ ...s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await object.Body!.transformToByteArray();
    await mkdir(directory, { recursive: true });
    await writeFile(path.join(directory, path.posix.basename(key)), bytes);
  } finally {
    client.destroy();
  }
}
