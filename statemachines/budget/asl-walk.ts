/**
 * Reading a synthesized definition for the budget check: which states a run can reach, how many
 * attempts a state's Retry allows, how long a Task may take at worst, and which states form a loop.
 * Defaults are the Amazon States Language's own (MaxAttempts 3, IntervalSeconds 1, BackoffRate 2).
 */
import { nestedDefinitions, type AslDefinition } from '../asl';
import type { StateType } from '../history-events';

/** One state of a definition. */
export type AslState = Record<string, unknown> & { Type: StateType };

interface Retrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}

type Machine = Pick<AslDefinition, 'StartAt' | 'States'>;

/** The states a run may go to from `state`: Next, a Choice's branches and Default, Catch targets. */
export function successors(state: AslState): string[] {
  const next: string[] = [];
  if (typeof state.Next === 'string') next.push(state.Next);
  if (typeof state.Default === 'string') next.push(state.Default);
  for (const choice of (state.Choices as Array<{ Next?: string }> | undefined) ?? []) if (choice.Next) next.push(choice.Next);
  for (const catcher of (state.Catch as Array<{ Next: string }> | undefined) ?? []) next.push(catcher.Next);
  return next;
}

/** The states of `machine` a run can reach from StartAt (each once), in discovery order. */
export function reachableStates(machine: Machine): Array<[string, AslState]> {
  const seen = new Set<string>();
  const order: Array<[string, AslState]> = [];
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const state = machine.States[name] as AslState | undefined;
    if (!state) throw new Error(`the definition names a state '${name}' it does not have`);
    order.push([name, state]);
    for (const next of successors(state)) visit(next);
  };
  visit(machine.StartAt);
  return order;
}

/** Names of the states of `machine` that lie on a cycle (a loop a run may go round any number of times). */
export function statesOnCycles(machine: Machine): Set<string> {
  const onCycle = new Set<string>();
  for (const [name] of reachableStates(machine)) {
    const stack = successors(machine.States[name] as AslState);
    const seen = new Set<string>();
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (next === name) {
        onCycle.add(name);
        break;
      }
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...successors(machine.States[next] as AslState));
    }
  }
  return onCycle;
}

/** The nested machines of a Parallel (its branches) or a Map (its item processor). */
export function nestedMachines(state: AslState): Machine[] {
  return nestedDefinitions(state);
}

function retriers(state: AslState): Retrier[] {
  return (state.Retry as Retrier[] | undefined) ?? [];
}

/** Attempts a state may make: the first, and every retry each of its retriers allows. */
export function attemptsOf(state: AslState): number {
  return 1 + retriers(state).reduce((sum, r) => sum + (r.MaxAttempts ?? 3), 0);
}

/** The longest the state may spend waiting between its retries (each backoff at its cap, no jitter). */
export function retryWaitSeconds(state: AslState): number {
  let total = 0;
  for (const retrier of retriers(state)) {
    const interval = retrier.IntervalSeconds ?? 1;
    const rate = retrier.BackoffRate ?? 2;
    for (let attempt = 0; attempt < (retrier.MaxAttempts ?? 3); attempt += 1) {
      const wait = interval * rate ** attempt;
      total += retrier.MaxDelaySeconds === undefined ? wait : Math.min(wait, retrier.MaxDelaySeconds);
    }
  }
  return total;
}

/** The longest one retry of the state waits before it runs again. */
export function longestRetryWaitSeconds(state: AslState): number {
  return Math.max(0, ...retriers(state).map((r) => {
    const longest = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** Math.max(0, (r.MaxAttempts ?? 3) - 1);
    return r.MaxDelaySeconds === undefined ? longest : Math.min(longest, r.MaxDelaySeconds);
  }));
}

/**
 * The longest a Task may take: every attempt up to its TimeoutSeconds, plus the waits between them.
 * @throws Error for a Task without TimeoutSeconds (AWS would wait up to a year).
 */
export function taskWorstSeconds(name: string, state: AslState): number {
  const timeout = state.TimeoutSeconds;
  if (typeof timeout !== 'number') throw new Error(`Task '${name}' has no TimeoutSeconds: its worst case is unbounded`);
  return attemptsOf(state) * timeout + retryWaitSeconds(state);
}
