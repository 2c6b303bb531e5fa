/**
 * The local runner takes the branches AWS takes: aws-local-stepfunctions 3 evaluates a type test
 * against false (`"IsPresent": false`) as always false, so run-local.ts rewrites it as `Not` of the
 * test against true before running a definition (the restore machine's "Scratch target?" uses one).
 */
import '../../../statemachines/local/polyfills';
import { runLocalStateMachine, withTypeTestsNegated } from '../../../statemachines/local/run-local';

const definition = {
  StartAt: 'Target given?',
  States: {
    'Target given?': {
      Type: 'Choice',
      Choices: [{ And: [{ Variable: '$.drill', IsPresent: true }, { Variable: '$.target', IsPresent: false }], Next: 'Start scratch' }],
      Default: 'Restore',
    },
    'Start scratch': { Type: 'Pass', End: true },
    Restore: { Type: 'Pass', End: true },
  },
};

const noTasks = async () => { throw new Error('this definition has no Task'); };

describe('the local runner', () => {
  it('takes "IsPresent": false for absent, as Step Functions does', async () => {
    const run = (input: unknown) => runLocalStateMachine(definition, input, { provider: noTasks });

    expect((await run({ drill: {} })).path).toEqual(['Target given?', 'Start scratch']);
    expect((await run({ drill: {}, target: { dataDir: '/d' } })).path).toEqual(['Target given?', 'Restore']);
    expect((await run({ target: { dataDir: '/d' } })).path).toEqual(['Target given?', 'Restore']);
  });

  it('rewrites only type tests against false, keeping Next where the rule has it', () => {
    expect(withTypeTestsNegated({ Variable: '$.a', IsNull: false, Next: 'N' })).toEqual({ Not: { Variable: '$.a', IsNull: true }, Next: 'N' });
    expect(withTypeTestsNegated({ Variable: '$.a', IsString: true, Next: 'N' })).toEqual({ Variable: '$.a', IsString: true, Next: 'N' });
    expect(withTypeTestsNegated({ Variable: '$.a', BooleanEquals: false, Next: 'N' })).toEqual({ Variable: '$.a', BooleanEquals: false, Next: 'N' });
  });
});
