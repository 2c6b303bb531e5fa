/**
 * The synthesized definitions behave as designed when executed (aws-local-stepfunctions, fake
 * handlers): the host-step loop polls until done, a TransientError re-runs the host step from a
 * fresh submit, a PermanentError goes through cleanup to Fail with the original error and cause,
 * and a failing cleanup does not hide it. The local runner with the real handlers is tested elsewhere.
 */
import '../../../statemachines/local/polyfills';
import { StateMachine } from 'aws-local-stepfunctions';

type JSONValue = Parameters<StateMachine['run']>[0];
import { listStates, synthesizeDefinitions, type AslDefinition } from '../../../statemachines/definitions';
import { handlerFromComment, type HandlerId } from '../../../statemachines/handlers';

type Handler = (input: Record<string, any>) => unknown;

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Runs `definition` with `handlers` by the Task comments; no waits between polls or retries. */
async function run(definition: AslDefinition, input: unknown, handlers: Partial<Record<HandlerId, Handler>>) {
  const calls: string[] = [];
  const taskResourceLocalHandlers: Record<string, (input: any) => Promise<JSONValue>> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const { name, state } of listStates(definition)) {
    if (state.Type === 'Task') {
      const id = handlerFromComment(state.Comment as string)!;
      taskResourceLocalHandlers[name] = async (taskInput) => {
        calls.push(name);
        const handler = handlers[id];
        if (!handler) throw new Error(`no fake for ${id}`);
        return handler(taskInput) as JSONValue;
      };
    }
    if (state.Type === 'Wait') waitTimeOverrides[name] = 0;
    if (state.Retry) retryIntervalOverrides[name] = 0;
  }
  const execution = new StateMachine(definition as any).run(input as any, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
  });
  try {
    return { output: (await execution.result) as Record<string, any>, calls, error: undefined };
  } catch (error) {
    return { output: undefined, calls, error: (error as { cause?: Error }).cause ?? (error as Error) };
  }
}

/** A host step fake that reports pending `polls` times before returning `done(input)`. */
function hostStep(polls: number, done: (input: Record<string, any>) => unknown): Handler {
  return (input) => {
    const seen = input.pending?.polls ?? -1;
    if (seen + 1 < polls) return { ...input, pending: { polls: seen + 1 } };
    const { pending: _pending, ...rest } = input;
    return done(rest);
  };
}

const { backup, restore } = synthesizeDefinitions();

const backupHandlers = (): Partial<Record<HandlerId, Handler>> => ({
  // The first step gets the execution's input as `request` and the run's time budget as `budget`.
  'backup/prepare': (input) => ({ ...input.request, backupId: 'b-1', nodes: [{ name: 'n1' }, { name: 'n2' }], budget: input.budget }),
  'backup/snapshot': hostStep(3, (input) => ({ ...input, snapshot: input.node.name })),
  'backup/validate': hostStep(1, (input) => ({ ...input, validated: true })),
  'backup/upload': hostStep(2, (input) => ({ ...input, uploaded: true })),
  'backup/finalize': (input) => ({ nodes: input.nodeResults.map((n: any) => n.snapshot) }),
  'backup/cleanup': (input) => ({ cleaned: true, afterError: Boolean(input.error) }),
});

describe('synthesized backup definition, executed', () => {
  it('polls each host step until it is no longer pending, per node, then finalizes and cleans up', async () => {
    const { output, calls, error } = await run(backup, { engine: 'etcd', instance: 'main', config: {} }, backupHandlers());
    expect(error).toBeUndefined();
    expect(output!.summary).toEqual({ nodes: ['n1', 'n2'] });
    expect(output!.cleanup).toEqual({ cleaned: true, afterError: false });
    expect(output!.engine).toBe('etcd');
    expect(output!.budget).toEqual({ startedAt: expect.stringMatching(/^\d{4}-/), hostWorkSeconds: expect.any(Number) });
    // The Map hands each iteration { backup, node }; host steps pass their output on.
    expect(output!.nodeResults[0]).toMatchObject({ node: { name: 'n1' }, backup: { backupId: 'b-1' }, validated: true, uploaded: true });
    expect(output!.nodeResults[0]).not.toHaveProperty('pending');
    expect(calls.filter((c) => c === 'Submit snapshot')).toHaveLength(2);
    expect(calls.filter((c) => c === 'Poll snapshot')).toHaveLength(6); // 3 pending answers per node
  });

  it('re-runs a host step from a fresh submit after a TransientError while polling', async () => {
    let failures = 1;
    const handlers = backupHandlers();
    const upload = hostStep(2, (input) => ({ ...input, uploaded: true }));
    handlers['backup/upload'] = (input) => {
      if (input.pending && failures-- > 0) throw named('TransientError', 'throttled');
      return upload(input);
    };
    const { output, calls, error } = await run(backup, { engine: 'etcd', instance: 'main', config: {} }, handlers);
    expect(error).toBeUndefined();
    expect(output!.summary).toEqual({ nodes: ['n1', 'n2'] });
    expect(calls.filter((c) => c === 'Submit upload')).toHaveLength(3);
  });

  it('turns a PermanentError into cleanup, then Fail with the original error name and cause', async () => {
    const handlers = backupHandlers();
    handlers['backup/validate'] = () => {
      throw named('PermanentError', 'snapshot b-1 (n1) failed validation: sha256');
    };
    const { calls, error } = await run(backup, { engine: 'etcd', instance: 'main', config: {} }, handlers);
    expect(calls.filter((c) => c === 'Submit validate').length).toBeLessThanOrEqual(2); // never retried
    expect(calls).toContain('Cleanup after failure');
    expect(calls).not.toContain('Finalize');
    expect(error).toMatchObject({ name: 'PermanentError', message: 'snapshot b-1 (n1) failed validation: sha256' });
  });

  it('sends a failure at Prepare through the cleanup too (which counts every failure)', async () => {
    const handlers = backupHandlers();
    handlers['backup/prepare'] = () => {
      throw named('PermanentError', 'INVALID_CONFIG: endpoints');
    };
    let cleanupInput: Record<string, any> | undefined;
    handlers['backup/cleanup'] = (input) => {
      cleanupInput = input;
      return { cleaned: [], failed: true };
    };
    const { calls, error } = await run(backup, { engine: 'etcd', instance: 'main', config: {} }, handlers);
    expect(calls).toEqual(['Prepare', 'Cleanup after failure']);
    expect(cleanupInput).toMatchObject({ engine: 'etcd', instance: 'main', error: { Error: 'PermanentError' } });
    expect(error).toMatchObject({ name: 'PermanentError', message: 'INVALID_CONFIG: endpoints' });
  });

  it('succeeds once the manifest is written, even when the cleanup after it fails', async () => {
    const handlers = backupHandlers();
    handlers['backup/cleanup'] = () => {
      throw named('TransientError', 'SSM throttled');
    };
    const { output, calls, error } = await run(backup, { engine: 'etcd', instance: 'main', config: {} }, handlers);
    expect(error).toBeUndefined();
    expect(calls).not.toContain('Cleanup after failure');
    expect(output!.summary).toEqual({ nodes: ['n1', 'n2'] });
    expect(output!.cleanupError).toMatchObject({ Error: 'TransientError' });
  });

  it('still fails with the original error when the cleanup after it fails too', async () => {
    const handlers = backupHandlers();
    handlers['backup/finalize'] = () => {
      throw named('PermanentError', 'artifact missing');
    };
    handlers['backup/cleanup'] = () => {
      throw named('PermanentError', 'host unreachable');
    };
    const { calls, error } = await run(backup, { engine: 'etcd', instance: 'main', config: {} }, handlers);
    expect(calls).toContain('Cleanup after failure');
    expect(error).toMatchObject({ name: 'PermanentError', message: 'artifact missing' });
  });
});

describe('synthesized restore definition, executed', () => {
  /** What the node steps did, in order: `<step> <node>` once each finished. */
  let done: string[];
  const nodeStep = (step: string, polls: number): Handler => hostStep(polls, (input) => {
    done.push(`${step} ${input.node.name}`);
    return { ...input, [step]: true };
  });
  const restoreHandlers = (phases = { stage: true, start: true }): Partial<Record<HandlerId, Handler>> => ({
    'restore/fetch-manifest': (input) => ({ ...input.request, backup: { backupId: 'b-1' }, nodes: [{ name: 'n1', host: 'i-1' }, { name: 'n2', host: 'i-2' }], phases }),
    'restore/prepare': nodeStep('prepare', 1),
    'restore/stage': nodeStep('stage', 2),
    'restore/apply': nodeStep('apply', 3),
    'restore/start': nodeStep('start', 2),
    'restore/validate': hostStep(1, (input) => ({ ...input, validation: { ok: true } })),
    'restore/report': (input) => ({ restoredFrom: input.backup.backupId, ok: input.validation.ok }),
    'restore/cleanup': (input) => ({ target: 'untouched', cause: `${input.error.Cause} — target untouched: not written to` }),
  });
  beforeEach(() => {
    done = [];
  });

  it('runs each node step on every node, each only once the one before finished on all, then validates and reports', async () => {
    const { output, calls, error } = await run(restore, { backupId: 'latest', engine: 'etcd', instance: 'main', target: {} }, restoreHandlers());
    expect(error).toBeUndefined();
    const steps = done.map((entry) => entry.split(' ')[0]);
    expect(steps).toEqual(['prepare', 'prepare', 'stage', 'stage', 'apply', 'apply', 'start', 'start']);
    expect(done.filter((entry) => entry.startsWith('apply')).sort()).toEqual(['apply n1', 'apply n2']);
    // Each node step got the restore and its node, and what it returned is discarded: the state is the fetch step's.
    expect(output).toMatchObject({ backupId: 'latest', nodes: [{ name: 'n1' }, { name: 'n2' }], report: { restoredFrom: 'b-1', ok: true } });
    expect(output).not.toHaveProperty('apply');
    expect(calls.filter((c) => c === 'Submit validate')).toHaveLength(1);
  });

  it('skips Stage and Start for a driver without them', async () => {
    const { error } = await run(restore, { backupId: 'latest', target: {} }, restoreHandlers({ stage: false, start: false }));
    expect(error).toBeUndefined();
    expect(done.map((entry) => entry.split(' ')[0])).toEqual(['prepare', 'prepare', 'apply', 'apply']);
  });

  it('fails, through the cleanup, with the original error and a cause that says what the target holds', async () => {
    const handlers = restoreHandlers();
    handlers['restore/stage'] = (input) => {
      if (input.node.name === 'n2') throw named('PermanentError', 'CHECKSUM_MISMATCH: snapshot.db');
      return nodeStep('stage', 4)(input);
    };
    const cleanup = handlers['restore/cleanup']!;
    handlers['restore/cleanup'] = (input) => {
      done.push('cleanup');
      return cleanup(input);
    };
    const { calls, error } = await run(restore, { backupId: 'latest', target: {} }, handlers);
    // A node that fails to stage keeps every node's target untouched: no apply anywhere...
    expect(calls).not.toContain('Submit apply');
    // ...and the cleanup waits for the other node's stage to end: it never runs beside a live step.
    expect(done).toEqual(['prepare n1', 'prepare n2', 'stage n1', 'cleanup']);
    expect(error).toMatchObject({ name: 'PermanentError', message: 'CHECKSUM_MISMATCH: snapshot.db — target untouched: not written to' });
  });

  it('fails with the original error, and says the target is unknown, when the cleanup fails too', async () => {
    const handlers = restoreHandlers();
    handlers['restore/apply'] = () => {
      throw named('PermanentError', 'CHECKSUM_MISMATCH: snapshot.db');
    };
    handlers['restore/cleanup'] = () => {
      throw named('TransientError', 'SSM unreachable');
    };
    const { error } = await run(restore, { backupId: 'latest', target: {} }, handlers);
    expect(error).toMatchObject({ name: 'PermanentError' });
    expect(error!.message).toMatch(/^CHECKSUM_MISMATCH: snapshot\.db — target unknown: the cleanup after the failure failed too \(.*SSM unreachable.*\)/);
  });
});
