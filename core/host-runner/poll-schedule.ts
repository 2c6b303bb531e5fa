/**
 * How long a state machine waits between two polls of a running host step: as long as the step has
 * been running, at least {@link POLL_SCHEDULE.minSeconds} and at most {@link POLL_SCHEDULE.maxSeconds}.
 * So a short step is seen finished within seconds, a long one is polled every 5 minutes, and the
 * polls of a step — 9 history events each — grow with the logarithm of its first 10 minutes and
 * then by 12 an hour: a 24-hour step needs under 300, not the 8 640 a fixed 10 s wait would.
 *
 * The host step's handler computes the next wait (`pending.waitSeconds`) and the Wait state reads it
 * (`SecondsPath`), so AWS and the local runner wait the same; the budget check bounds a run's
 * history with the same schedule (statemachines/budget).
 */

/** The schedule's numbers. */
export interface PollSchedule {
  /** The first wait, and the shortest. */
  readonly minSeconds: number;
  /** The longest wait: the most a finished step may go unnoticed. */
  readonly maxSeconds: number;
  /** Each wait is this fraction of the time the step has been running (1: the elapsed time doubles at each poll). */
  readonly growth: number;
}

export const POLL_SCHEDULE: PollSchedule = { minSeconds: 10, maxSeconds: 300, growth: 1 };

/**
 * On one machine a poll costs nothing but the history it adds: the same schedule from 1 second, so a
 * step of a few seconds is seen finished at once, and a long one keeps the history AWS would.
 */
export const LOCAL_POLL_SCHEDULE: PollSchedule = { ...POLL_SCHEDULE, minSeconds: 1 };

/** Seconds to wait before the next poll of a step that has been running `elapsedSeconds`. */
export function pollWaitSeconds(elapsedSeconds: number, schedule: PollSchedule = POLL_SCHEDULE): number {
  const grown = Math.round(Math.max(0, elapsedSeconds) * schedule.growth);
  return Math.min(schedule.maxSeconds, Math.max(schedule.minSeconds, grown));
}

/** Polls a step that runs `seconds` gets at most: the one that sees it finished included. */
export function pollsWithin(seconds: number, schedule: PollSchedule = POLL_SCHEDULE): number {
  let elapsed = 0;
  let polls = 0;
  while (elapsed < seconds) {
    elapsed += pollWaitSeconds(elapsed, schedule);
    polls += 1;
  }
  return polls;
}
