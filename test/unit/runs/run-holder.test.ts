/**
 * Whether a run is alive: by the processes it recorded (pid and start time, so a reused pid does
 * not count), else by its hold; never judged from another host.
 */
import { spawnSync } from 'node:child_process';
import { currentHostBoot, currentProcess, formatIdentity, isRunning, parseIdentity, processStartTime } from '../../../core/host/process-identity';
import { MAX_RUN_MS, judgeHolder, runHolder, type RunHolder } from '../../../core/runs/run-holder';
import { killStarted, startSleep } from '../host/process-fixture';

afterEach(() => killStarted());

/** A pid that just exited and was reaped. */
function deadPid(): number {
  return spawnSync('true').pid;
}

const here = currentHostBoot();

describe('process identity', () => {
  it('tells a running process from one that reuses its pid', async () => {
    // Prepare
    const pid = await startSleep();
    const startTime = processStartTime(pid)!;

    // Act
    const same = isRunning({ pid, startTime });
    const reused = isRunning({ pid, startTime: startTime + 1 });
    const gone = isRunning({ pid: deadPid(), startTime });

    // Assess
    expect(same).toBe(true);
    expect(reused).toBe(false);
    expect(gone).toBe(false);
  });

  it('passes through an environment variable', () => {
    const me = currentProcess();
    expect(parseIdentity(formatIdentity(me))).toEqual(me);
    expect(parseIdentity('12')).toEqual({ pid: 12 });
    expect(parseIdentity('x:1')).toBeUndefined();
    expect(parseIdentity(undefined)).toBeUndefined();
  });
});

describe('judgeHolder', () => {
  const now = new Date('2026-11-20T12:00:00Z');

  it('counts a run orchestrated by a live process as alive, and dead once it is gone', async () => {
    // Prepare
    const pid = await startSleep();
    const live: RunHolder = { ...here, processes: [{ pid, startTime: processStartTime(pid) }] };
    const killed: RunHolder = { ...here, processes: [{ pid: deadPid() }] };

    // Act
    const alive = judgeHolder(live, now);
    const dead = judgeHolder(killed, now);

    // Assess
    expect(alive).toMatchObject({ state: 'live', reason: `process ${pid} is running` });
    expect(dead.state).toBe('dead');
  });

  it('does not take a reused pid for the process that held the run', () => {
    // Prepare: this very process, recorded with another start time (as a killed run's pid, reused)
    const holder: RunHolder = { ...here, processes: [{ pid: process.pid, startTime: (processStartTime(process.pid) ?? 0) + 7 }] };

    // Act
    const verdict = judgeHolder(holder, now);

    // Assess
    expect(verdict.state).toBe('dead');
  });

  it('keeps a run orchestrated elsewhere alive until its hold ends', () => {
    // Prepare
    const holder = runHolder({ runStartedAt: now.toISOString(), includeSelf: false });

    // Act
    const during = judgeHolder(holder, new Date(now.getTime() + MAX_RUN_MS - 1));
    const after = judgeHolder(holder, new Date(now.getTime() + MAX_RUN_MS + 1));

    // Assess
    expect(holder.processes).toEqual([]);
    expect(during.state).toBe('live');
    expect(after.state).toBe('dead');
  });

  it('counts the processes of another boot as gone, and cannot judge another host', () => {
    const rebooted = judgeHolder({ host: here.host, bootId: 'another-boot', processes: [currentProcess()] }, now);
    const elsewhere = judgeHolder({ host: `not-${here.host}`, processes: [currentProcess()] }, now);

    expect(rebooted).toMatchObject({ state: 'dead', reason: expect.stringMatching(/rebooted/) });
    expect(elsewhere).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/cannot be checked/) });
  });

  it('records the orchestrator instead of a hold when there is one', () => {
    const orchestrator = { pid: 1, startTime: 1 };
    const holder = runHolder({ orchestrator, runStartedAt: now.toISOString() });
    expect(holder.processes).toEqual([currentProcess(), orchestrator]);
    expect(holder.until).toBeUndefined();
  });
});
