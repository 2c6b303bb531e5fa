/** cassandra-driver's errors as ours (drivers/cassandra/cql-errors.ts): a clear line per host, no stack traces in the message. */
import { errors } from 'cassandra-driver';
import { cqlError } from '../../../drivers/cassandra/cql-errors';

it('says what each unreachable node answered, transient, without the inner errors\' stacks', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9042'), { errno: -111, code: 'ECONNREFUSED' });
  const error = cqlError(new errors.NoHostAvailableError({ '127.0.0.1:9042': refused, '127.0.0.2:9042': new Error('Connection timeout') }), 'reading the ring');
  expect(error).toMatchObject({ name: 'TransientError', code: 'CASSANDRA_NO_HOST' });
  expect(error.message).toBe('reading the ring: no node could be reached (127.0.0.1:9042: connect ECONNREFUSED 127.0.0.1:9042; 127.0.0.2:9042: Connection timeout)');
});

it('classifies a refused login as an authentication failure (permanent)', () => {
  const error = cqlError(new errors.AuthenticationError('Provided username backup and/or password are incorrect'), 'connecting');
  expect(error.name).toBe('PermanentError');
  expect(error.message).toContain('password are incorrect');
});
