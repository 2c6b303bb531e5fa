/**
 * Maps the etcd3 client's native errors to the framework's two error names, so the state machine
 * knows whether to retry. See node_modules/etcd3/lib/errors.d.ts for the client's error classes.
 *
 * Note: the etcd3 client leaves `error.name` as `Error`, so matching is by class (instanceof, with
 * the constructor's name as a fallback for a second copy of the package) and by etcd's messages.
 */
import {
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  castGrpcError,
} from 'etcd3';
import { isBrokenCircuitError } from 'cockatiel';
import { PermanentError, TransientError, authFailed, isNetworkError, isUnknownHostText, unknownHost, type ClassifiedError } from '../../core/errors';

const ENGINE = 'etcd';

/** Messages etcd sends when it is (temporarily) unable to serve: leader elections, overload, timeouts. */
const UNAVAILABLE_MESSAGES = [
  'etcdserver: no leader',
  'etcdserver: leader changed',
  'etcdserver: request timed out',
  'etcdserver: server stopped',
  'etcdserver: too many requests',
  'etcdserver: not capable',
  'No connection established',
  'ECONNREFUSED',
  'ECONNRESET',
  'connection closed',
  'Deadline exceeded',
  'deadline exceeded',
];

/** etcd's auth failures, with or without the `etcdserver:` prefix (the snapshot stream omits it). */
const AUTH_MESSAGES = [
  'authentication failed',
  'permission denied',
  'invalid auth token',
  'user name is empty',
  'user name not found',
];

const COMPACTED_MESSAGE = 'required revision has been compacted';

function is(error: object, ctor: abstract new (...args: never[]) => unknown): boolean {
  return error instanceof ctor || error.constructor?.name === ctor.name;
}

/** An error's message, without the empty `Resolution note:` gRPC ends an unreachable endpoint's with. */
export function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*Resolution note:\s*$/, '');
}

/**
 * Classifies an etcd client error, or returns undefined when it is not one this driver recognises
 * (the framework then treats it as permanent).
 *
 * - unavailable / deadline / circuit open / connection refused → TransientError `ETCD_UNAVAILABLE`
 * - authentication or permission failures → PermanentError `AUTH_FAILED` (`ETCD_AUTH` in the message)
 * - a read at a compacted revision → PermanentError `ETCD_COMPACTED`
 * - a host name that does not resolve → PermanentError `UNKNOWN_HOST` (`ETCD_UNKNOWN_HOST` in the message)
 */
export function mapEtcdError(raw: unknown): ClassifiedError | undefined {
  if (raw instanceof TransientError || raw instanceof PermanentError) return raw;
  if (typeof raw !== 'object' || raw === null) return undefined;
  // Errors straight off a gRPC stream (e.g. the snapshot stream) are plain Errors with a numeric code.
  const error: object = raw instanceof Error && raw.constructor === Error && typeof (raw as { code?: unknown }).code === 'number'
    ? castGrpcError(raw)
    : raw;
  const message = messageOf(error);

  if (message.includes(COMPACTED_MESSAGE)) {
    return new PermanentError(`etcd: the requested revision has been compacted (${message})`, {
      code: 'ETCD_COMPACTED', engine: ENGINE, cause: error,
    });
  }
  if (
    is(error, GRPCUnauthenticatedError) || is(error, EtcdAuthenticationFailedError)
    || is(error, EtcdPermissionDeniedError) || is(error, EtcdInvalidAuthTokenError)
    || AUTH_MESSAGES.some((m) => message.includes(m))
  ) {
    return authFailed(`etcd refused the credentials or the operation is not permitted: ${message}`, {
      driverCode: 'ETCD_AUTH', engine: ENGINE, cause: error,
    });
  }
  if (isUnknownHostText(message)) {
    return unknownHost(`an etcd endpoint's host name does not resolve: ${message}`, { driverCode: 'ETCD_UNKNOWN_HOST', engine: ENGINE, cause: error });
  }
  if (
    is(error, GRPCUnavailableError) || is(error, GRPCDeadlineExceededError)
    || isBrokenCircuitError(error) || isNetworkError(error)
    || (is(error, GRPCResourceExhastedError) && message.includes('too many requests'))
    || UNAVAILABLE_MESSAGES.some((m) => message.includes(m))
  ) {
    return new TransientError(`etcd is unavailable: ${message}`, {
      code: 'ETCD_UNAVAILABLE', engine: ENGINE, cause: error,
    });
  }
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== error) return mapEtcdError(cause);
  return undefined;
}
