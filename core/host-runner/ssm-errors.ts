/**
 * Maps @aws-sdk/client-ssm errors to our two error names, with stable codes:
 *
 * | SSM error | ours | code |
 * |---|---|---|
 * | InvalidInstanceId | PermanentError | `HOST_NOT_FOUND` |
 * | ThrottlingException, TooManyUpdates, RequestLimitExceeded, 429 | TransientError | `SSM_THROTTLED` |
 * | InternalServerError, ServiceUnavailable, any 5xx, network errors, SDK timeouts | TransientError | `SSM_UNAVAILABLE` |
 * | AccessDeniedException, UnrecognizedClientException, InvalidSignatureException, ExpiredToken… | PermanentError | `ACCESS_DENIED` |
 * | InvalidDocument, InvalidParameters, InvalidOutputFolder, InvalidRole, … | PermanentError | `SSM_INVALID_REQUEST` |
 * | InvocationDoesNotExist, InvalidCommandId | PermanentError | `HOST_COMMAND_NOT_FOUND` |
 * | anything else | PermanentError | `SSM_ERROR` |
 */
import { PermanentError, TransientError, isNetworkError, type ClassifiedError } from '../errors';
import { HOST_ERROR_CODES } from './host-runner';

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyUpdates', 'RequestLimitExceeded', 'TooManyRequestsException']);
const UNAVAILABLE = new Set(['InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const ACCESS = new Set([
  'AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException', 'InvalidSignatureException',
  'ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId', 'MissingAuthenticationToken', 'CredentialsProviderError',
]);
const INVALID_REQUEST = new Set([
  'InvalidDocument', 'InvalidDocumentVersion', 'InvalidParameters', 'InvalidOutputFolder', 'InvalidRole',
  'InvalidNotificationConfig', 'MaxDocumentSizeExceeded', 'UnsupportedPlatformType', 'DuplicateInstanceId',
  'ValidationException', 'SerializationException',
]);
const NOT_FOUND = new Set(['InvocationDoesNotExist', 'InvalidCommandId']);

/** The SDK error's name (its modeled exception name, e.g. `InvalidInstanceId`). */
export function ssmErrorName(error: unknown): string {
  const { name } = (error ?? {}) as { name?: unknown };
  return typeof name === 'string' ? name : '';
}

/** HTTP status of an SDK error, when it came from a response. */
function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** True for errors a later call can cure: throttling, 5xx, network. */
export function isTransientSsmError(error: unknown): boolean {
  const name = ssmErrorName(error);
  const status = httpStatus(error) ?? 0;
  return THROTTLING.has(name) || UNAVAILABLE.has(name) || status === 429 || status >= 500 || isNetworkError(error);
}

/** Turns an SSM SDK error from `action` (e.g. `SendCommand`) into a TransientError or PermanentError. */
export function mapSsmError(error: unknown, action: string, host?: string): ClassifiedError {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const name = ssmErrorName(error);
  const status = httpStatus(error);
  const detail = `${(error as Error | undefined)?.message ?? String(error)} (${name || 'error'}${status ? `, HTTP ${status}` : ''})`;
  const cause = error;
  if (name === 'InvalidInstanceId') {
    return new PermanentError(
      `SSM ${action}: host ${host ?? '(none)'} is not a managed instance SSM can reach (unknown id, stopped, or its SSM agent is offline): ${detail}`,
      { code: HOST_ERROR_CODES.hostNotFound, cause },
    );
  }
  if (THROTTLING.has(name) || status === 429) {
    return new TransientError(`SSM ${action} throttled: ${detail}`, { code: 'SSM_THROTTLED', cause });
  }
  if (UNAVAILABLE.has(name) || (status !== undefined && status >= 500) || isNetworkError(error)) {
    return new TransientError(`SSM ${action} unavailable: ${detail}`, { code: 'SSM_UNAVAILABLE', cause });
  }
  if (ACCESS.has(name) || status === 403) {
    return new PermanentError(`SSM ${action} denied: ${detail}`, { code: 'ACCESS_DENIED', cause });
  }
  if (INVALID_REQUEST.has(name)) {
    return new PermanentError(`SSM ${action} rejected the request: ${detail}`, { code: 'SSM_INVALID_REQUEST', cause });
  }
  if (NOT_FOUND.has(name)) {
    return new PermanentError(`SSM ${action}: no such command invocation: ${detail}`, { code: HOST_ERROR_CODES.commandNotFound, cause });
  }
  return new PermanentError(`SSM ${action} failed: ${detail}`, { code: 'SSM_ERROR', cause });
}
