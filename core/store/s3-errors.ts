/**
 * Maps errors from the AWS SDK's S3 client to our two error names with stable codes and one-line
 * messages that say which bucket and endpoint were involved.
 */
import { PermanentError, TransientError, isNetworkError, type ClassifiedError } from '../errors';

/** Where a request went, for error messages. */
export interface S3ErrorContext {
  bucket: string;
  /** The endpoint URL, or a description such as `AWS S3 (eu-west-1)`. */
  endpoint: string;
  /** The store-relative key, when the request was about one object. */
  key?: string;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);
const ACCESS_DENIED = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken',
  'TokenRefreshRequired', 'AllAccessDisabled', 'AccountProblem', 'InvalidClientTokenId',
]);
const THROTTLED = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException',
  'RequestThrottled', 'RequestThrottledException', 'BandwidthLimitExceeded',
]);
const UNAVAILABLE = new Set([
  'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
  'OperationAborted', 'PriorRequestNotComplete',
]);

/** The bytes S3 received do not match the checksum sent with them: changed on the way, worth sending again. */
const BAD_DIGEST = new Set(['BadDigest', 'XAmzContentChecksumMismatch', 'XAmzContentSHA256Mismatch']);
/** How an S3-compatible server refuses a request part it does not implement. */
const UNSUPPORTED = new Set(['NotImplemented', 'InvalidArgument', 'InvalidRequest', 'BadRequest']);

interface SdkErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Turns anything the S3 client threw into a {@link TransientError} or {@link PermanentError}. */
export function mapS3Error(error: unknown, context: S3ErrorContext): ClassifiedError {
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  const shape = (error ?? {}) as SdkErrorShape;
  const name = shape.Code ?? shape.name ?? 'Error';
  const status = shape.$metadata?.httpStatusCode;
  const label = name !== 'Unknown' && name !== 'Error' ? name : status !== undefined ? `HTTP ${status}` : shape.code ?? name;
  const where = `s3://${context.bucket}${context.key ? `/${context.key}` : ''} at ${context.endpoint}`;
  const detail = oneLine(shape.message ?? String(error));

  // The SDK's own refusals before any request: nothing says where, or as whom, to ask.
  if (detail === 'Region is missing') {
    return new PermanentError(`no AWS region to reach bucket '${context.bucket}': set AWS_REGION (or the region of the profile in use)`, { code: 'INVALID_STORE_URL', cause: error });
  }
  if (name === 'CredentialsProviderError') {
    return new PermanentError(
      `no AWS credentials to reach bucket '${context.bucket}' at ${context.endpoint}: ${detail} (set a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role provides them)`,
      { code: 'ACCESS_DENIED', cause: error },
    );
  }
  if (name === 'NoSuchBucket') {
    return new PermanentError(`bucket '${context.bucket}' does not exist at ${context.endpoint} (NoSuchBucket)`, { code: 'NO_SUCH_BUCKET', cause: error });
  }
  if (NOT_FOUND.has(name) || (status === 404 && name !== 'NoSuchUpload')) {
    return new PermanentError(`object not found: ${where}`, { code: 'NOT_FOUND', cause: error });
  }
  if (ACCESS_DENIED.has(name) || status === 401 || status === 403) {
    return new PermanentError(
      `access denied to bucket '${context.bucket}' at ${context.endpoint} (${label}): check the credentials and the bucket policy`,
      { code: 'ACCESS_DENIED', cause: error },
    );
  }
  if (name === 'NoSuchUpload') {
    return new PermanentError(`multipart upload no longer exists: ${where}`, { code: 'NO_SUCH_UPLOAD', cause: error });
  }
  if (BAD_DIGEST.has(name)) {
    return new TransientError(`S3 received other bytes than were sent for ${where} (${name}): they changed on the way; send them again`, { code: 'S3_BAD_DIGEST', cause: error });
  }
  if ((UNSUPPORTED.has(name) || status === 501) && /checksum/i.test(detail)) {
    return new PermanentError(
      `${context.endpoint} refused the CRC32 checksum sent with ${where} (${label}: ${detail}): an S3-compatible server that does not take S3 checksums needs DBBACKUP_S3_CHECKSUMS=false`,
      { code: 'S3_CHECKSUMS_REFUSED', cause: error },
    );
  }
  if (THROTTLED.has(name) || status === 429 || status === 503) {
    return new TransientError(`S3 is throttling requests to ${where} (${name})`, { code: 'S3_THROTTLED', cause: error });
  }
  if (UNAVAILABLE.has(name) || (status !== undefined && status >= 500) || looksLikeNetworkError(error, detail)) {
    return new TransientError(`S3 endpoint ${context.endpoint} unavailable for ${where} (${label}): ${detail}`, { code: 'S3_UNAVAILABLE', cause: error });
  }
  return new PermanentError(`S3 request for ${where} failed (${label}): ${detail}`, { code: 'S3_ERROR', cause: error });
}

/**
 * Socket-level failures. Besides the error's `code`, the message is checked: when the SDK receives
 * an error object from another realm (e.g. under jest) it wraps it and keeps only the message.
 */
function looksLikeNetworkError(error: unknown, message: string): boolean {
  return isNetworkError(error) || isNetworkError((error as { cause?: unknown }).cause) || NETWORK_MESSAGE.test(message);
}

const NETWORK_MESSAGE = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNABORTED)\b|socket hang up/;

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
