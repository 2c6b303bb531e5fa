import { EXIT, exitCodeFor } from '../../../bin/exit-codes';
import { PermanentError, TransientError } from '../../../core/errors';

describe('exitCodeFor', () => {
  it.each([
    ['a config naming a MySQL database the server does not have', new PermanentError('no such database', { code: 'MYSQL_DATABASE_NOT_FOUND', engine: 'mysql' }), EXIT.badInput],
    ['a store path that is no store', new PermanentError('no store', { code: 'STORE_NOT_FOUND' }), EXIT.badInput],
    ['a database user without a privilege the operation needs', new PermanentError('needs SET USER', { code: 'MYSQL_PRIVILEGES', engine: 'mysql' }), EXIT.badInput],
    ['a failed validation', new PermanentError('digest differs', { code: 'VALIDATION_FAILED' }), EXIT.failed],
    ['an unreachable server', new TransientError('refused', { code: 'MYSQL_UNAVAILABLE' }), EXIT.unavailable],
  ])('gives %s its documented exit code', (_what, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });
});
