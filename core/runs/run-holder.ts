/**
 * Who holds a run (a backup or restore in progress), and whether it is still alive. A run is held
 * by processes whose lives bound it, or — when it is orchestrated elsewhere — for a fixed time:
 *
 * - A local CLI run (`dbbackup backup|restore`) is orchestrated by the CLI process, which lives for
 *   the whole run: the run is alive exactly while that process (or the step process at work) runs.
 *   A `kill -9`ed CLI is dead at once, whatever its pid is reused for later (start times differ).
 * - A run orchestrated by Step Functions has no process on the host between its steps (each host
 *   step is one agent invocation through SSM): it is alive while a step process runs, and otherwise
 *   until {@link MAX_RUN_MS} after it started — the execution timeout, after which Step Functions
 *   has ended it for sure.
 *
 * Liveness can only be checked on the host that recorded the processes: elsewhere it is unknown.
 */
import { z } from 'zod';
import { currentHostBoot, currentProcess, isRunning, type HostBoot, type ProcessIdentity } from '../host/process-identity';

/**
 * The longest a run may live with no process of it running: the state machines' execution timeout
 * (statemachines/workflow.ts takes its default from here and refuses longer ones).
 */
export const MAX_RUN_MS = 24 * 3600_000;

const processSchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.number().int().nonnegative().optional(),
});

export const runHolderSchema = z.object({
  host: z.string().min(1),
  bootId: z.string().optional(),
  /** Processes whose life bounds the run's: the step at work, the orchestrator when it is on this host. */
  processes: z.array(processSchema),
  /** When no recorded process orchestrates the run: it may be alive until then (ISO time). */
  until: z.iso.datetime().optional(),
});

/** A run's holder, as recorded next to what the run owns. */
export type RunHolder = z.infer<typeof runHolderSchema>;

/** What a holder says about its run now. `unknown`: recorded on another host (or no way to tell). */
export interface HolderVerdict {
  state: 'live' | 'dead' | 'unknown';
  reason: string;
}

export interface RunHolderOptions {
  /** The process orchestrating the run, when it is on this host and lives as long as the run (a CLI). */
  orchestrator?: ProcessIdentity;
  /** When this run (this attempt) started: bounds the hold of a run with no orchestrator. */
  runStartedAt: string;
  /** Also record this process (a step at work), besides the orchestrator. Default true. */
  includeSelf?: boolean;
  /** This host and boot (tests). */
  here?: HostBoot;
}

/** The holder to record for a run on this host. */
export function runHolder(options: RunHolderOptions): RunHolder {
  const here = options.here ?? currentHostBoot();
  const processes: ProcessIdentity[] = [];
  if (options.includeSelf !== false) processes.push(currentProcess());
  const { orchestrator } = options;
  if (orchestrator && !processes.some((p) => p.pid === orchestrator.pid)) processes.push(orchestrator);
  return {
    host: here.host,
    ...(here.bootId ? { bootId: here.bootId } : {}),
    processes,
    ...(orchestrator ? {} : { until: new Date(Date.parse(options.runStartedAt) + MAX_RUN_MS).toISOString() }),
  };
}

/** Whether the run `holder` describes is alive now, seen from this host (see the module comment). */
export function judgeHolder(holder: RunHolder, now: Date = new Date(), here: HostBoot = currentHostBoot()): HolderVerdict {
  const until = holder.until === undefined ? undefined : Date.parse(holder.until);
  const held = until !== undefined && until > now.getTime();
  if (holder.host !== here.host) {
    return held
      ? { state: 'live', reason: `held by host ${holder.host} until ${holder.until}` }
      : { state: 'unknown', reason: `held by host ${holder.host}: its processes cannot be checked from ${here.host}` };
  }
  const sameBoot = holder.bootId === undefined || here.bootId === undefined || holder.bootId === here.bootId;
  const running = sameBoot ? holder.processes.find(isRunning) : undefined;
  if (running) return { state: 'live', reason: `process ${running.pid} is running` };
  if (held) return { state: 'live', reason: `orchestrated elsewhere: may run until ${holder.until}` };
  const pids = holder.processes.map((p) => p.pid).join(', ');
  if (!sameBoot) return { state: 'dead', reason: `the host rebooted since process ${pids || '(none)'} held it` };
  if (until !== undefined) return { state: 'dead', reason: `no process of it runs and its hold ended at ${holder.until}` };
  return { state: 'dead', reason: `process ${pids || '(none)'} is gone` };
}
