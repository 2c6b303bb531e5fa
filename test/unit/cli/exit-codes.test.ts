import { EXIT, exitCodeFor } from '../../../bin/exit-codes';
import { PermanentError, TransientError } from '../../../core/errors';

describe('exitCodeFor', () => {
  it.each([
    ['a config naming a MySQL database the server does not have', new PermanentError('no such database', { code: 'MYSQL_DATABASE_NOT_FOUND', engine: 'mysql' }), EXIT.badInput],
    ['a store path that is no store', new PermanentError('no store', { code: 'STORE_NOT_FOUND' }), EXIT.badInput],
    ['a database user without a privilege the operation needs', new PermanentError('needs SET USER', { code: 'MYSQL_PRIVILEGES', engine: 'mysql' }), EXIT.badInput],
    ['a config naming a Cassandra keyspace the cluster does not have', new PermanentError('no such keyspace', { code: 'CASSANDRA_NO_SUCH_KEYSPACE', engine: 'cassandra' }), EXIT.badInput],
    ['a target of another shard count than the backup', new PermanentError('3 shards, 4 backed up', { code: 'SCHEMALESS_SHARD_COUNT', engine: 'schemaless' }), EXIT.badInput],
    ['a data dir a process the restore does not know holds files under', new PermanentError('pid 42 holds files', { code: 'TARGET_IN_USE', engine: 'etcd' }), EXIT.badInput],
    ['a restore its validation could not prove', new PermanentError('not proven', { code: 'RESTORE_UNPROVEN', engine: 'zookeeper' }), EXIT.failed],
    ['a failed validation', new PermanentError('digest differs', { code: 'VALIDATION_FAILED' }), EXIT.failed],
    ['an unreachable server', new TransientError('refused', { code: 'MYSQL_UNAVAILABLE' }), EXIT.unavailable],
  ])('gives %s its documented exit code', (_what, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });
});
