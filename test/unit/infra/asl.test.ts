/** asl-validator accepts both synthesized definitions (the deployed ones are checked in backup-stack.test.ts). */
import { Duration } from 'aws-cdk-lib';
import { synthesizeDefinitions } from '../../../statemachines/definitions';

const validateAsl = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };

describe('asl-validator', () => {
  it.each([
    ['defaults', {}],
    ["custom options", { maxConcurrency: 1, taskTimeout: Duration.seconds(30), timeout: Duration.hours(2), hostStepTimeout: Duration.minutes(30) }],
  ])('accepts both definitions (%s)', (_name, options) => {
    const definitions = synthesizeDefinitions(options);
    for (const definition of [definitions.backup, definitions.restore]) {
      const result = validateAsl(definition);
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    }
  });

  it('is not a rubber stamp', () => {
    const { backup } = synthesizeDefinitions();
    const broken = { ...backup, States: { ...backup.States, Prepare: { ...backup.States.Prepare, Next: 'Nowhere' } } };
    expect(validateAsl(broken).isValid).toBe(false);
  });
});
