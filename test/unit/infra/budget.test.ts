/**
 * Long host steps do not run a state machine out of history or time. From the synthesized
 * definitions: the history events of the longest allowed run (every host step for the whole
 * execution timeout on every lane, every retry taken, the most nodes a backup may have) stay a
 * fifth below Step Functions' 25 000, because the wait between polls grows with the step's time;
 * the old fixed 10 s poll loop, put back, is far over and refused. And every run ends, cleanup
 * included, before the execution times out: host work has a deadline, and what may follow it is
 * checked against the timeout when the stack is synthesized.
 */
import { Duration } from 'aws-cdk-lib';
import { MAX_BACKUP_NODES } from '../../../core/backup/backup-state';
import { POLL_SCHEDULE, pollsWithin, pollWaitSeconds } from '../../../core/host-runner/poll-schedule';
import { BudgetExceededError, checkBudget } from '../../../statemachines/budget/check-budget';
import { historyBound } from '../../../statemachines/budget/history-bound';
import { timeBudget } from '../../../statemachines/budget/time-budget';
import { synthesizeDefinitions, type AslDefinition } from '../../../statemachines/definitions';
import { STEP_FUNCTIONS_LIMITS } from '../../../statemachines/history-events';

const shipped = synthesizeDefinitions();
const HOST_STEP_SECONDS = 6 * 3600;
const machines = [['backup', shipped.backup, MAX_BACKUP_NODES], ['restore', shipped.restore, 1]] as const;

/** `definition` with every Wait state waiting a fixed `seconds` (the old poll loop), wherever it is nested. */
function withFixedWait(definition: AslDefinition, seconds: number): AslDefinition {
  return JSON.parse(JSON.stringify(definition), (_key, value: unknown) => {
    if (value && typeof value === 'object' && (value as { Type?: unknown }).Type === 'Wait') {
      const { SecondsPath: _path, ...wait } = value as Record<string, unknown>;
      return { ...wait, Seconds: seconds };
    }
    return value;
  }) as AslDefinition;
}

describe('history of the longest allowed run', () => {
  it.each(machines)('%s: stays a fifth below 25 000 events', (name, definition, mapItems) => {
    // Act
    const bound = historyBound(definition, { executionSeconds: definition.TimeoutSeconds as number, mapItems });

    // Assess
    console.log(`${name}: longest allowed run ${bound.events} history events (${bound.pollCycles} poll cycles of ${bound.eventsPerCycle}, ${bound.baseEvents} others)`);
    expect(bound.eventsPerCycle).toBe(9);
    expect(bound.events).toBeLessThan(STEP_FUNCTIONS_LIMITS.historyEvents * 0.8);
  });

  it.each(machines)('%s: with the old fixed 10 s poll loop put back, is far over the limit and refused', (_name, definition, mapItems) => {
    // Prepare
    const old = withFixedWait(definition, 10);

    // Act
    const bound = historyBound(old, { executionSeconds: old.TimeoutSeconds as number, mapItems });
    const checking = () => checkBudget(old, { hostStepTimeoutSeconds: HOST_STEP_SECONDS, mapItems });

    // Assess
    expect(bound.events).toBeGreaterThan(STEP_FUNCTIONS_LIMITS.historyEvents * 3);
    expect(checking).toThrow(BudgetExceededError);
    expect(checking).toThrow(/history events/);
  });

  it('polls a step for a day fewer than 300 times, and sees a short one finished within seconds', () => {
    expect(pollWaitSeconds(0)).toBe(POLL_SCHEDULE.minSeconds);
    expect(pollWaitSeconds(45)).toBe(45);
    expect(pollWaitSeconds(8 * 3600)).toBe(POLL_SCHEDULE.maxSeconds);
    expect(pollsWithin(5)).toBe(1);
    expect(pollsWithin(24 * 3600)).toBeLessThan(300);
    expect(pollsWithin(8 * 3600)).toBeLessThan(pollsWithin(24 * 3600) / 2);
  });
});

describe('time budget', () => {
  it.each(machines)('%s: host work and what may follow it fit the execution timeout, and a step may run its 6 hours', (name, definition) => {
    // Act
    const time = timeBudget(definition);

    // Assess
    console.log(`${name}: host work up to ${(time.hostWorkSeconds / 3600).toFixed(1)} h, then up to ${(time.tailSeconds / 3600).toFixed(1)} h for the rest, of ${(time.executionSeconds / 3600).toFixed(0)} h`);
    expect(time.executionSeconds).toBe(24 * 3600);
    expect(time.hostWorkSeconds + time.tailSeconds).toBeLessThanOrEqual(time.executionSeconds);
    expect(time.hostWorkSeconds).toBeGreaterThanOrEqual(HOST_STEP_SECONDS);
  });

  it('refuses at synth a host step timeout the run could not give', () => {
    expect(() => synthesizeDefinitions({ timeout: Duration.hours(12), hostStepTimeout: Duration.hours(6) }))
      .toThrow(/a host step may run 6\.00 h, but the run leaves only/);
  });

  it('refuses at synth retries whose worst case leaves no time for host work', () => {
    expect(() => synthesizeDefinitions({ retry: { transient: { maxAttempts: 30 } } }))
      .toThrow(BudgetExceededError);
  });
});
