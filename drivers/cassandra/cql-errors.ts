/**
 * cassandra-driver's failures as our errors: what a retry can cure (no host answers, a timeout, too
 * few replicas up, an overloaded or bootstrapping node) is transient; the rest (syntax, invalid
 * request, unauthorized) is permanent; a refused login is AUTH_FAILED.
 */
import { errors, types } from 'cassandra-driver';
import { authFailed, classify, PermanentError, TransientError, type ClassifiedError } from '../../core/errors';

const ENGINE = 'cassandra';
/** Server error codes a retry can cure, with our code for each (built on first use: the CLI loads the client only when it talks to Cassandra). */
let transientResponses: Map<number, string> | undefined;
function transientResponse(code: number): string | undefined {
  const codes = types.responseErrorCodes;
  transientResponses ??= new Map<number, string>([
    [codes.unavailableException, 'CASSANDRA_UNAVAILABLE'],
    [codes.overloaded, 'CASSANDRA_OVERLOADED'],
    [codes.isBootstrapping, 'CASSANDRA_BOOTSTRAPPING'],
    [codes.readTimeout, 'CASSANDRA_TIMEOUT'],
    [codes.writeTimeout, 'CASSANDRA_TIMEOUT'],
    [codes.truncateError, 'CASSANDRA_TIMEOUT'],
    [codes.serverError, 'CASSANDRA_SERVER_ERROR'],
  ]);
  return transientResponses.get(code);
}

/**
 * What each host said, one line each: the driver's own message inspects its inner errors, stack
 * traces and all.
 */
function noHostMessage(error: InstanceType<typeof errors.NoHostAvailableError>): string {
  const inner = Object.entries((error.innerErrors ?? {}) as Record<string, unknown>)
    .map(([host, cause]) => `${host}: ${cause instanceof Error ? cause.message : String(cause)}`);
  return inner.length > 0 ? `no node could be reached (${inner.join('; ')})` : 'no node could be reached';
}

/** Our error for a failure of `what` (e.g. `reading the schema of shop`) seen through cassandra-driver. */
export function cqlError(error: unknown, what: string): ClassifiedError {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  const options = (code: string) => ({ code, engine: ENGINE, cause: error });
  if (error instanceof errors.AuthenticationError) return authFailed(message, { engine: ENGINE, driverCode: 'CASSANDRA_AUTH', cause: error });
  if (error instanceof errors.NoHostAvailableError) return new TransientError(`${what}: ${noHostMessage(error)}`, options('CASSANDRA_NO_HOST'));
  if (error instanceof errors.OperationTimedOutError || error instanceof errors.BusyConnectionError) return new TransientError(message, options('CASSANDRA_TIMEOUT'));
  if (error instanceof errors.ResponseError) {
    const transient = transientResponse(error.code);
    if (transient) return new TransientError(message, options(transient));
    const codes = types.responseErrorCodes;
    if (error.code === codes.badCredentials) return authFailed(message, { engine: ENGINE, driverCode: 'CASSANDRA_AUTH', cause: error });
    if (error.code === codes.unauthorized) return new PermanentError(message, options('CASSANDRA_UNAUTHORIZED'));
    return new PermanentError(message, options('CASSANDRA_QUERY_REFUSED'));
  }
  return classify(error, undefined, ENGINE);
}
