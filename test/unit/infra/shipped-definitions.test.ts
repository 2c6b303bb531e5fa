/**
 * Local runs execute the definitions the build shipped (no CDK at run time): they must be what the
 * constructs synthesize, valid for the local runner (which then skips validating them), and the retry override must equal synthesizing with that policy.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { synthesizeDefinitions } from '../../../statemachines/definitions';
import { shippedDefinitions, withTransientAttempts } from '../../../statemachines/local/shipped-definitions';

describe('shipped definitions', () => {
  it('are the definitions the CDK constructs synthesize', () => {
    // Act
    const shipped = shippedDefinitions();

    // Assess
    expect(shipped).toEqual(synthesizeDefinitions());
  });

  it('pass the local runner\'s validation (local runs of the shipped definitions skip it)', () => {
    // Act + Assess
    for (const definition of Object.values(shippedDefinitions())) {
      expect(() => new StateMachine(definition as never, { validationOptions: { checkArn: false } })).not.toThrow();
    }
  });

  it.each([1, 3])('with %i transient attempts equal the definitions synthesized with that policy', (attempts) => {
    // Act
    const overridden = withTransientAttempts(synthesizeDefinitions(), attempts);

    // Assess
    expect(overridden).toEqual(synthesizeDefinitions({ retry: { transient: { maxAttempts: attempts - 1 } } }));
  });

  it('refuses more transient attempts than leave any time for host work (as synth refuses them)', () => {
    expect(() => withTransientAttempts(synthesizeDefinitions(), 60)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/60 attempts .* leave no time for host work/) }));
  });

  it('a missing or wrong file is PermanentError INSTALL_BROKEN', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shipped-definitions-'));
    const wrong = path.join(dir, 'state-machines.json');
    await writeFile(wrong, '{"backup": {}}');

    // Act + Assess
    try {
      expect(() => shippedDefinitions(path.join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'INSTALL_BROKEN' }));
      expect(() => shippedDefinitions(wrong)).toThrow(expect.objectContaining({ code: 'INSTALL_BROKEN' }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
