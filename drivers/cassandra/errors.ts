/**
 * The plugin's error mapper (`mapError`): cassandra-driver's errors as the framework's two names,
 * through cql-errors.ts, plus what only a whole step sees: a login refused by every host behind a
 * `NoHostAvailableError` is `AUTH_FAILED` (not an outage), a contact point that does not resolve is
 * `UNKNOWN_HOST`, and an open circuit is transient.
 */
import { errors } from 'cassandra-driver';
import { isBrokenCircuitError } from 'cockatiel';
import { authFailed, isUnknownHostText, TransientError, unknownHost, type ClassifiedError } from '../../core/errors';
import { cqlError } from './cql-errors';

const ENGINE = 'cassandra';
const BAD_CREDENTIALS = 0x0100;

/** Classifies a cassandra-driver error, or undefined when it is not one (the framework then treats it as permanent). */
export function mapCassandraError(error: unknown): ClassifiedError | undefined {
  if (isBrokenCircuitError(error)) return new TransientError('cassandra circuit open: too many recent failures', { code: 'CIRCUIT_OPEN', engine: ENGINE, cause: error });
  if (error instanceof errors.NoHostAvailableError) {
    const inner = Object.values(error.innerErrors ?? {});
    const auth = inner.find((e) => e instanceof errors.AuthenticationError || (e instanceof errors.ResponseError && e.code === BAD_CREDENTIALS));
    if (auth) return authFailed(`cassandra refused the login: ${(auth as Error).message}`, { engine: ENGINE, driverCode: 'CASSANDRA_AUTH', cause: error });
    if (inner.length > 0 && inner.every((e) => e instanceof Error && isUnknownHostText(e.message))) {
      return unknownHost(`cassandra: no contact point resolves: ${error.message}`, { engine: ENGINE, driverCode: 'ENOTFOUND', cause: error });
    }
  }
  return error instanceof errors.DriverError ? cqlError(error, 'cassandra') : undefined;
}
