import { isTransientSsmError, mapSsmError } from '../../../core/host-runner/ssm-errors';
import { PermanentError } from '../../../core/errors';

/** An error shaped like the SDK's service exceptions. */
function sdkError(name: string, status: number, message = `${name} happened`): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe('mapSsmError', () => {
  it.each([
    ['InvalidInstanceId', 400, 'PermanentError', 'HOST_NOT_FOUND'],
    ['ThrottlingException', 400, 'TransientError', 'SSM_THROTTLED'],
    ['TooManyUpdates', 400, 'TransientError', 'SSM_THROTTLED'],
    ['InternalServerError', 500, 'TransientError', 'SSM_UNAVAILABLE'],
    ['SomethingNew', 503, 'TransientError', 'SSM_UNAVAILABLE'],
    ['AccessDeniedException', 400, 'PermanentError', 'ACCESS_DENIED'],
    ['UnrecognizedClientException', 400, 'PermanentError', 'ACCESS_DENIED'],
    ['InvalidDocument', 400, 'PermanentError', 'SSM_INVALID_REQUEST'],
    ['InvocationDoesNotExist', 400, 'PermanentError', 'HOST_COMMAND_NOT_FOUND'],
    ['SomethingNew', 400, 'PermanentError', 'SSM_ERROR'],
  ])('maps %s (HTTP %i) to %s %s', (name, status, expectedName, code) => {
    // Act
    const mapped = mapSsmError(sdkError(name, status), 'SendCommand', 'i-1');

    // Assess
    expect(mapped).toMatchObject({ name: expectedName, code });
    expect(mapped.message).toContain('SendCommand');
    expect(mapped.message).toContain(name);
  });

  it('maps socket errors to TransientError SSM_UNAVAILABLE', () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

    // Act
    const mapped = mapSsmError(refused, 'GetCommandInvocation');

    // Assess
    expect(mapped).toMatchObject({ name: 'TransientError', code: 'SSM_UNAVAILABLE' });
    expect(isTransientSsmError(refused)).toBe(true);
  });

  it('passes our own errors through', () => {
    // Prepare
    const ours = new PermanentError('already classified', { code: 'INVALID_INPUT' });

    // Act
    const mapped = mapSsmError(ours, 'SendCommand');

    // Assess
    expect(mapped).toBe(ours);
  });
});
