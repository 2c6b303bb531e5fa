import { agentResultFromStdout, asAgentResult, textTail } from '../../../core/host-runner/agent-result';

describe('agentResultFromStdout', () => {
  it('parses the last non-empty line as the AgentResult', () => {
    // Prepare
    const stdout = 'warming up\n{"ok":true,"output":{"first":true}}\n{"ok":true,"output":{"n":2}}\n\n';

    // Act
    const result = agentResultFromStdout(stdout);

    // Assess
    expect(result).toEqual({ ok: true, output: { n: 2 } });
  });

  it.each([
    ['empty output', ''],
    ['a last line that is not JSON', '{"ok":true,"output":1}\nSegmentation fault\n'],
    ['JSON that is not an AgentResult', '{"status":"done"}\n'],
    ['a truncated JSON line', '{"ok":true,"output":{"blob":"xxxx'],
    ['an error without a message', '{"ok":false,"error":{"name":"PermanentError"}}'],
  ])('finds no result in %s', (_label, stdout) => {
    // Act
    const result = agentResultFromStdout(stdout);

    // Assess
    expect(result).toBeUndefined();
  });
});

describe('asAgentResult', () => {
  it('keeps TransientError and PermanentError names and codes', () => {
    // Act
    const transient = asAgentResult({ ok: false, error: { name: 'TransientError', code: 'ETCD_UNAVAILABLE', message: 'down' } });
    const permanent = asAgentResult({ ok: false, error: { name: 'PermanentError', message: 'bad' } });

    // Assess
    expect(transient).toEqual({ ok: false, error: { name: 'TransientError', code: 'ETCD_UNAVAILABLE', message: 'down' } });
    expect(permanent).toEqual({ ok: false, error: { name: 'PermanentError', message: 'bad' } });
  });

  it('turns any other error name into PermanentError (unknown = permanent)', () => {
    // Act
    const result = asAgentResult({ ok: false, error: { name: 'TypeError', code: 'X', message: 'boom' } });

    // Assess
    expect(result).toEqual({ ok: false, error: { name: 'PermanentError', code: 'X', message: 'boom' } });
  });
});

describe('textTail', () => {
  it('keeps the end of long text and marks the cut', () => {
    // Act
    const tail = textTail(`${'a'.repeat(50)}END\n`, 10);

    // Assess
    expect(tail).toBe('…aaaaaaaEND');
  });
});
