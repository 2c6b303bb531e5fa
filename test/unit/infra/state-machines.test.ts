/**
 * Structure of the backup and restore state machines, as the construct classes synthesize them
 * (with stand-in functions: no bundling). The deployed stack is checked to carry the very same
 * definitions in backup-stack.test.ts.
 */
import { App, Duration } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { listStates, placeholderFunctionArn, synthesizeDefinitions, withDefinitionStack, type AslDefinition, type DefinitionOptions } from '../../../statemachines/definitions';
import { handlerFromComment } from '../../../statemachines/handlers';
import { LAMBDA_SERVICE_ERRORS, PERMANENT_ERROR, TRANSIENT_ERROR } from '../../../statemachines/retry-policy';
import { MAX_RESTORE_NODES } from '../../../core/restore/restore-state';

type State = Record<string, unknown> & { Type: string };
type Retrier = { ErrorEquals: string[]; MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number; MaxDelaySeconds?: number; JitterStrategy?: string };

const defaults = synthesizeDefinitions();

function machineTemplate(options: DefinitionOptions = {}): Template {
  // Synthesized into the App's own directory, which withDefinitionStack removes (Template.fromStack
  // would synthesize into a temp directory of its own and leave it there).
  return withDefinitionStack(options, ({ stack }) => Template.fromJSON(App.of(stack)!.synth().getStackByName(stack.stackName).template));
}

function states(definition: AslDefinition): Map<string, State> {
  return new Map(listStates(definition).map(({ name, state }) => [name, state as State]));
}

function retriers(state: State): Retrier[] {
  return (state.Retry as Retrier[] | undefined) ?? [];
}

/** Task states that are a host step's Submit or Poll (inside a host step's Parallel). */
function isHostStepTask(name: string): boolean {
  return /^(Submit|Poll) /.test(name);
}

describe('backup state machine', () => {
  it('runs Prepare → Nodes (Map) → Finalize → Cleanup → Succeed, with the documented result paths', () => {
    const template = machineTemplate();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.serializedJson(
        Match.objectLike({
          StartAt: 'Prepare',
          States: Match.objectLike({
            Prepare: Match.objectLike({ Type: 'Task', Comment: 'handler:backup/prepare', Next: 'Nodes', Resource: placeholderFunctionArn('backup/prepare') }),
            Nodes: Match.objectLike({
              Type: 'Map',
              ItemsPath: '$.nodes',
              ItemSelector: { 'backup.$': '$', 'node.$': '$$.Map.Item.Value' },
              MaxConcurrency: 4,
              ResultPath: '$.nodeResults',
              Next: 'Finalize',
            }),
            Finalize: Match.objectLike({ Type: 'Task', Comment: 'handler:backup/finalize', ResultPath: '$.summary', Next: 'Cleanup' }),
            Cleanup: Match.objectLike({ Type: 'Task', Comment: 'handler:backup/cleanup', ResultPath: '$.cleanup', Next: 'Backup succeeded' }),
            'Backup succeeded': { Type: 'Succeed' },
          }),
        }),
      ),
    });
    // ResultPath `$` is expressed by leaving ResultPath out (same meaning; see lambda-task.ts).
    expect(defaults.backup.States.Prepare).not.toHaveProperty('ResultPath');
  });

  it('honours maxConcurrency', () => {
    const maxConcurrency = new Capture();
    machineTemplate({ maxConcurrency: 7 }).hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.serializedJson(Match.objectLike({ States: Match.objectLike({ Nodes: Match.objectLike({ MaxConcurrency: maxConcurrency }) }) })),
    });
    expect(maxConcurrency.asNumber()).toBe(7);
    expect(() => synthesizeDefinitions({ maxConcurrency: 0 })).toThrow(/maxConcurrency/);
  });

  it('runs snapshot → validate → upload host steps for each node', () => {
    const nodes = defaults.backup.States.Nodes as { ItemProcessor: AslDefinition };
    const inner = nodes.ItemProcessor;
    expect(inner.StartAt).toBe('Snapshot');
    expect(inner.States.Snapshot).toMatchObject({ Type: 'Parallel', Next: 'Validate' });
    expect(inner.States.Validate).toMatchObject({ Type: 'Parallel', Next: 'Upload' });
    expect(inner.States.Upload).toMatchObject({ Type: 'Parallel', End: true });
  });

  it('on any failure of Prepare, the Map or Finalize runs cleanup, then fails with the original error and cause', () => {
    const template = machineTemplate();
    const catchToCleanup = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cleanup after failure' }];
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.serializedJson(
        Match.objectLike({
          States: Match.objectLike({
            Prepare: Match.objectLike({ Catch: catchToCleanup }),
            Nodes: Match.objectLike({ Catch: catchToCleanup }),
            Finalize: Match.objectLike({ Catch: catchToCleanup }),
            // The manifest is written by then: a failing Cleanup is noted, and the backup still succeeds.
            Cleanup: Match.objectLike({ Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.cleanupError', Next: 'Backup succeeded' }] }),
            'Cleanup after failure': Match.objectLike({
              Type: 'Task',
              Comment: 'handler:backup/cleanup',
              ResultPath: '$.cleanup',
              Next: 'Backup failed',
              // A failing cleanup still reaches Fail, without overwriting the original $.error.
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.cleanupError', Next: 'Backup failed' }],
            }),
            'Backup failed': { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
          }),
        }),
      ),
    });
  });
});

describe('restore state machine', () => {
  it('runs Fetch manifest → Prepare, [Stage], Apply, [Start] on every node → Validate → Report, any failure (on a node: once every node\'s step ended) → cleanup → Fail with the original error', () => {
    const r = defaults.restore.States;
    expect(defaults.restore.StartAt).toBe('Fetch manifest');
    expect(r['Fetch manifest']).toMatchObject({ Type: 'Task', Comment: 'handler:restore/fetch-manifest', Next: 'Scratch target?' });
    // A drill without a target starts a scratch target first; any other restore goes straight on.
    expect(r['Scratch target?']).toMatchObject({
      Type: 'Choice', Default: 'Prepare nodes',
      Choices: [{ And: [{ Variable: '$.drill', IsPresent: true }, { Variable: '$.target', IsPresent: false }], Next: 'Drill start' }],
    });
    expect(r['Drill start']).toMatchObject({ Type: 'Parallel', Next: 'Prepare nodes' });
    expect(r['Fetch manifest']).not.toHaveProperty('ResultPath');
    const onEveryNode = { Type: 'Map', ItemsPath: '$.nodes', MaxConcurrency: MAX_RESTORE_NODES, ResultPath: '$.nodeOutcomes' };
    expect(r['Prepare nodes']).toMatchObject({ ...onEveryNode, Next: 'Prepare failed on a node?' });
    expect(r['Prepare failed on a node?']).toMatchObject({ Type: 'Choice', Default: 'Stage?' });
    expect(r['Stage?']).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.phases.stage', BooleanEquals: true, Next: 'Stage nodes' }], Default: 'Apply nodes' });
    expect(r['Stage failed on a node?']).toMatchObject({ Type: 'Choice', Default: 'Apply nodes' });
    expect(r['Apply failed on a node?']).toMatchObject({ Type: 'Choice', Default: 'Start?' });
    expect(r['Start?']).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.phases.start', BooleanEquals: true, Next: 'Start nodes' }], Default: 'Validate' });
    expect(r['Start failed on a node?']).toMatchObject({ Type: 'Choice', Default: 'Validate' });
    for (const step of ['Prepare', 'Stage', 'Apply', 'Start']) {
      const map = r[`${step} nodes`] as unknown as { ItemSelector: unknown; ItemProcessor: { StartAt: string; States: Record<string, Record<string, unknown>> } };
      expect(map).toMatchObject({ ...onEveryNode, Next: `${step} failed on a node?` });
      expect(map.ItemSelector).toEqual({ 'restore.$': '$', 'node.$': '$$.Map.Item.Value' });
      // A failure on one node is caught there, so the Map waits for every other node's step to end.
      expect(map.ItemProcessor.StartAt).toBe(step);
      expect(map.ItemProcessor.States[step].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${step} failed on the node` }]);
      expect(map.ItemProcessor.States[`${step} failed on the node`]).toMatchObject({ Type: 'Pass', Parameters: { 'error.$': '$.error' }, End: true });
      // ...then the first node whose step failed gives the restore its error.
      expect((r[`${step} failed on a node?`] as unknown as { Choices: unknown[] }).Choices).toEqual(
        Array.from({ length: MAX_RESTORE_NODES }, (_, i) => ({ Variable: `$.nodeOutcomes[${i}].error`, IsPresent: true, Next: `Node ${i + 1} failed` })),
      );
    }
    for (let i = 0; i < MAX_RESTORE_NODES; i += 1) {
      expect(r[`Node ${i + 1} failed`]).toMatchObject({
        Type: 'Pass', ResultPath: '$.error', Next: 'Cleanup after failure',
        Parameters: { 'Error.$': `$.nodeOutcomes[${i}].error.Error`, 'Cause.$': `$.nodeOutcomes[${i}].error.Cause` },
      });
    }
    expect(r['Validate']).toMatchObject({ Type: 'Parallel', Next: 'Report' });
    expect(r.Report).toMatchObject({ Type: 'Task', Comment: 'handler:restore/report', ResultPath: '$.report', Next: 'Drill?' });
    expect(r['Drill?']).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.drill', IsPresent: true, Next: 'Record drill' }], Default: 'Restore succeeded' });
    expect(r['Record drill']).toMatchObject({
      Type: 'Task', Comment: 'handler:restore/drill-record', ResultPath: '$.drillOutcome', Next: 'Restore succeeded',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.drillError', Next: 'Drill record failed' }],
    });
    expect(r['Drill record failed']).toEqual({ Type: 'Fail', ErrorPath: '$.drillError.Error', CausePath: '$.drillError.Cause' });
    expect(r['Restore succeeded']).toEqual({ Type: 'Succeed' });
    for (const name of ['Fetch manifest', 'Drill start', 'Prepare nodes', 'Stage nodes', 'Apply nodes', 'Start nodes', 'Validate', 'Report']) {
      expect(r[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cleanup after failure' }]);
    }
    // The cleanup's cause (original message + the target's state) is the Fail's Cause; the error name is the original's.
    expect(r['Cleanup after failure']).toMatchObject({
      Type: 'Task', Comment: 'handler:restore/cleanup', ResultPath: '$.cleanup', Next: 'Drill failed?',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.cleanupError', Next: 'Cleanup failed' }],
    });
    expect(r['Cleanup failed']).toMatchObject({ Type: 'Pass', ResultPath: '$.cleanup', Next: 'Drill failed?' });
    // A failed drill is recorded too (the backup marked restore failed), and nothing in that keeps the original error from the Fail.
    expect(r['Drill failed?']).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.drill', IsPresent: true, Next: 'Record failed drill' }], Default: 'Restore failed' });
    expect(r['Record failed drill']).toMatchObject({
      Type: 'Task', Comment: 'handler:restore/drill-record', ResultPath: '$.drillOutcome', Next: 'Restore failed',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.drillError', Next: 'Restore failed' }],
    });
    expect((r['Cleanup failed'].Parameters as Record<string, string>)['cause.$']).toMatch(/^States\.Format\('\{\} — target unknown: .*', \$\.error\.Cause, \$\.cleanupError\.Cause\)$/);
    expect(r['Restore failed']).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.cleanup.cause' });
  });
});

describe.each([
  ['backup', defaults.backup, ['snapshot', 'validate', 'upload']],
  ['restore', defaults.restore, ['drill-start', 'prepare', 'stage', 'apply', 'start', 'validate']],
] as const)('%s host steps', (machine, definition, steps) => {
  const all = states(definition);

  it.each(steps)('%s is a Parallel with one Submit → Choice(pending?) → Wait → Poll → Choice loop', (step) => {
    const parallel = [...all.values()].find((s) => s.Type === 'Parallel' && (s.Branches as AslDefinition[])[0].StartAt === `Submit ${step}`);
    expect(parallel).toBeDefined();
    expect(parallel!.OutputPath).toBe('$[0]');
    const branches = parallel!.Branches as AslDefinition[];
    expect(branches).toHaveLength(1);
    const b = branches[0].States;
    const submit = b[`Submit ${step}`] as State;
    const poll = b[`Poll ${step}`] as State;
    const wait = b[`Wait ${step}`] as State;
    const choiceName = submit.Next as string;
    const choice = b[choiceName] as State & { Choices: Array<Record<string, unknown>>; Default: string };
    expect(submit).toMatchObject({ Type: 'Task', Next: choiceName });
    expect(submit).not.toHaveProperty('ResultPath');
    expect(poll).toMatchObject({ Type: 'Task', Next: choiceName, Resource: submit.Resource, Comment: submit.Comment });
    expect(poll).not.toHaveProperty('ResultPath');
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([{ Variable: '$.pending', IsPresent: true, Next: `Wait ${step}` }]);
    // The handler says how long to wait (growing with the step's time); no fixed Seconds.
    expect(wait).toEqual({ Type: 'Wait', SecondsPath: '$.pending.waitSeconds', Next: `Poll ${step}` });
    expect(b[choice.Default]).toEqual({ Type: 'Succeed' });
    expect(handlerFromComment(submit.Comment as string)).toBe(`${machine}/${step}`);
  });

  it('every state name is unique across the machine', () => {
    const names = listStates(definition).map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('retry policy', () => {
  const everyState = [...states(defaults.backup), ...states(defaults.restore)];
  const tasks = everyState.filter(([, s]) => s.Type === 'Task');
  const parallels = everyState.filter(([, s]) => s.Type === 'Parallel');

  it('names a handler in every Task Comment and sets a Task timeout', () => {
    // backup: 4 plain + 3 host steps × (Submit, Poll); restore: 5 plain + 6 × 2
    expect(tasks.length).toBe(4 + 6 + 5 + 12);
    for (const [name, task] of tasks) {
      const handler = handlerFromComment(task.Comment as string);
      expect({ name, handler }).toEqual({ name, handler: expect.any(String) });
      expect(task.Resource).toBe(placeholderFunctionArn(handler!));
      expect(task.TimeoutSeconds).toBe(900);
    }
  });

  it('never retries PermanentError: it is listed first with MaxAttempts 0 on every Task and host step', () => {
    for (const [name, state] of [...tasks, ...parallels]) {
      const rules = retriers(state);
      expect({ name, first: rules[0] }).toEqual({ name, first: { ErrorEquals: [PERMANENT_ERROR], MaxAttempts: 0 } });
      const retried = rules.filter((r) => (r.ErrorEquals.includes(PERMANENT_ERROR) || r.ErrorEquals.includes('States.ALL')) && r.MaxAttempts !== 0);
      expect({ name, retried }).toEqual({ name, retried: [] });
    }
  });

  it('retries TransientError with capped, jittered exponential backoff on every Task outside host steps', () => {
    const plain = tasks.filter(([name]) => !isHostStepTask(name));
    expect(plain.map(([name]) => name).sort()).toEqual(['Cleanup', 'Cleanup after failure', 'Cleanup after failure', 'Fetch manifest', 'Finalize', 'Prepare', 'Record drill', 'Record failed drill', 'Report']);
    for (const [name, task] of plain) {
      const rules = retriers(task);
      expect({ name, rules }).toEqual({
        name,
        rules: [
          { ErrorEquals: [PERMANENT_ERROR], MaxAttempts: 0 },
          { ErrorEquals: [TRANSIENT_ERROR], IntervalSeconds: 5, MaxAttempts: 4, BackoffRate: 2, MaxDelaySeconds: 120, JitterStrategy: 'FULL' },
          { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' },
        ],
      });
    }
  });

  it("counts Lambda's client-side execution timeout among the Lambda service errors retried", () => {
    expect(LAMBDA_SERVICE_ERRORS).toEqual(expect.arrayContaining(['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.TooManyRequestsException']));
    expect(retriers(tasks.find(([name]) => name === 'Poll apply')![1]).flatMap((r) => r.ErrorEquals)).toContain('Lambda.ClientExecutionTimeoutException');
  });

  it('retries only Lambda service errors on Submit/Poll, and TransientError on the host step Parallel (a fresh submit)', () => {
    const hostTasks = tasks.filter(([name]) => isHostStepTask(name));
    expect(hostTasks).toHaveLength(18);
    for (const [name, task] of hostTasks) {
      const errors = retriers(task).flatMap((r) => r.ErrorEquals);
      expect({ name, errors }).toEqual({ name, errors: [PERMANENT_ERROR, ...LAMBDA_SERVICE_ERRORS] });
    }
    expect(parallels).toHaveLength(9);
    for (const [name, parallel] of parallels) {
      expect({ name, rules: retriers(parallel) }).toEqual({
        name,
        rules: [
          { ErrorEquals: [PERMANENT_ERROR], MaxAttempts: 0 },
          { ErrorEquals: [TRANSIENT_ERROR], IntervalSeconds: 5, MaxAttempts: 4, BackoffRate: 2, MaxDelaySeconds: 120, JitterStrategy: 'FULL' },
        ],
      });
    }
  });

  it('takes every number from props', () => {
    const custom = synthesizeDefinitions({
      retry: {
        transient: { interval: Duration.seconds(3), maxAttempts: 9, maxDelay: Duration.seconds(40) },
        lambdaService: { interval: Duration.seconds(1), maxAttempts: 2, maxDelay: Duration.seconds(5) },
      },
      taskTimeout: Duration.minutes(5),
      timeout: Duration.hours(6),
      hostStepTimeout: Duration.hours(1),
    });
    const s = states(custom.backup);
    expect(retriers(s.get('Prepare')!)[1]).toEqual({ ErrorEquals: [TRANSIENT_ERROR], IntervalSeconds: 3, MaxAttempts: 9, BackoffRate: 2, MaxDelaySeconds: 40, JitterStrategy: 'FULL' });
    expect(retriers(s.get('Prepare')!)[2]).toMatchObject({ IntervalSeconds: 1, MaxAttempts: 2, MaxDelaySeconds: 5 });
    expect(retriers(s.get('Snapshot')!)[1]).toMatchObject({ IntervalSeconds: 3, MaxAttempts: 9, MaxDelaySeconds: 40 });
    expect(s.get('Poll upload')!.TimeoutSeconds).toBe(300);
    expect(custom.backup.TimeoutSeconds).toBe(6 * 3600);
    expect(defaults.backup.TimeoutSeconds).toBe(24 * 3600);
  });

  it('refuses nonsensical numbers', () => {
    expect(() => synthesizeDefinitions({ retry: { transient: { maxAttempts: -1 } } })).toThrow(/maxAttempts/);
    expect(() => synthesizeDefinitions({ retry: { transient: { interval: Duration.seconds(10), maxDelay: Duration.seconds(5) } } })).toThrow(/maxDelay/);
  });

  it('refuses an execution timeout longer than hosts keep a run\'s files alive (24 h)', () => {
    expect(() => synthesizeDefinitions({ timeout: Duration.hours(25) })).toThrow(/at most 24 hours/);
    expect(synthesizeDefinitions({ timeout: Duration.hours(24) }).backup.TimeoutSeconds).toBe(24 * 3600);
  });
});

describe('synthesizeDefinitions', () => {
  it('is deterministic and JSONPath only', () => {
    const again = synthesizeDefinitions();
    expect(again).toEqual(defaults);
    expect(defaults.backup.QueryLanguage).toBe('JSONPath');
    expect(JSON.stringify(defaults)).not.toMatch(/\{%|JSONata/i);
  });
});
