import { BrokenCircuitError } from 'cockatiel';
import {
  EtcdAuthenticationFailedError, EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCInvalidArgumentError,
  GRPCOutOfRangeError, GRPCUnauthenticatedError, GRPCUnavailableError,
} from 'etcd3';
import { PermanentError, TransientError } from '../../../core/errors';
import { mapEtcdError } from '../../../drivers/etcd/errors';

describe('mapEtcdError', () => {
  it.each([
    ['GRPCUnavailableError', new GRPCUnavailableError('14 UNAVAILABLE: No connection established')],
    ['GRPCDeadlineExceededError', new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded')],
    ['an open circuit breaker', new BrokenCircuitError()],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2379'), { code: 'ECONNREFUSED' })],
    ['a leader election', new Error('etcdserver: leader changed')],
    ['a raw gRPC UNAVAILABLE error off a stream', Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 })],
  ])('maps %s to TransientError ETCD_UNAVAILABLE', (_label, error) => {
    // Act
    const mapped = mapEtcdError(error);

    // Assess
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped).toMatchObject({ name: 'TransientError', code: 'ETCD_UNAVAILABLE', engine: 'etcd' });
  });

  it.each([
    ['GRPCUnauthenticatedError', new GRPCUnauthenticatedError('16 UNAUTHENTICATED')],
    ['EtcdAuthenticationFailedError', new EtcdAuthenticationFailedError('etcdserver: authentication failed, invalid user ID or password')],
    ['EtcdPermissionDeniedError', new EtcdPermissionDeniedError('etcdserver: permission denied')],
  ])('maps %s to PermanentError AUTH_FAILED, naming ETCD_AUTH', (_label, error) => {
    // Act
    const mapped = mapEtcdError(error);

    // Assess
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped).toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/^authentication failed \(ETCD_AUTH\): /) });
  });

  it('maps a read at a compacted revision to PermanentError ETCD_COMPACTED', () => {
    // Prepare
    const error = new GRPCOutOfRangeError('11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted');

    // Act
    const mapped = mapEtcdError(error);

    // Assess
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped).toMatchObject({ code: 'ETCD_COMPACTED' });
  });

  it('returns undefined for errors it does not recognise, and passes classified errors through', () => {
    // Prepare
    const own = new TransientError('x', { code: 'X' });

    // Act
    const unknown = mapEtcdError(new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: key is not provided'));
    const plain = mapEtcdError(new Error('something else'));
    const passed = mapEtcdError(own);

    // Assess
    expect(unknown).toBeUndefined();
    expect(plain).toBeUndefined();
    expect(mapEtcdError('a string')).toBeUndefined();
    expect(passed).toBe(own);
  });
});

describe('a host name that does not resolve', () => {
  it('is PermanentError UNKNOWN_HOST, the code every engine uses (not retried)', () => {
    // Prepare: what the etcd3 client raises for an endpoint whose name does not resolve
    const error = new GRPCUnavailableError('14 UNAVAILABLE: Name resolution failed for target dns:no-such-host.invalid:2379');

    // Act
    const mapped = mapEtcdError(error);

    // Assess
    expect(mapped).toMatchObject({ name: 'PermanentError', code: 'UNKNOWN_HOST', engine: 'etcd', message: expect.stringContaining('ETCD_UNKNOWN_HOST') });
  });
});
