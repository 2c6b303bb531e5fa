/**
 * Construction of the S3 client the S3 store uses. Checksums are computed only where S3 requires
 * them or a request asks for one: with the SDK's default ("when supported") it frames streamed
 * bodies as aws-chunked with trailing checksums, which S3-compatible servers such as s3rver store
 * verbatim, corrupting the object. The S3 store asks a CRC32 of what it puts (s3-store.ts): its
 * bodies reach the SDK as whole buffers (lib-storage's parts), so the checksum travels in a header.
 * Content is verified with our own sha256 besides.
 */
import { S3Client } from '@aws-sdk/client-s3';

/** How to reach S3. Everything is optional: the defaults reach AWS with the ambient credentials. */
export interface S3ClientOptions {
  /** Custom endpoint (e.g. `http://127.0.0.1:4568`); undefined = AWS. */
  endpoint?: string;
  /**
   * The bucket's region (core/aws/region.ts decides it). Unset: the SDK's own configuration, or
   * `us-east-1` when `endpoint` names an S3-compatible server, which ignores it.
   */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`); needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
  /** Static credentials; undefined = the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK attempts per request (retries of non-streaming requests). Default 3. */
  maxAttempts?: number;
  /**
   * false: the S3 store asks no CRC32 of what it puts (`DBBACKUP_S3_CHECKSUMS=false`), for an
   * S3-compatible server that refuses `x-amz-checksum-crc32`; validation then reads back what a
   * snapshot streamed there. Default: asked.
   */
  checksums?: boolean;
}

/** An S3 client configured as described in the module comment. */
export function createS3Client(options: S3ClientOptions): S3Client {
  return new S3Client({
    region: options.region ?? (options.endpoint ? 'us-east-1' : undefined),
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A human description of where requests go, for error messages. */
export function describeEndpoint(options: S3ClientOptions): string {
  return options.endpoint ?? `AWS S3 (${options.region ?? 'region from the AWS config'})`;
}
