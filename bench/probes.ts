/**
 * Where a benchmarked run's time goes: the CPU seconds it cost (this process, the tools it ran,
 * a server), and its phases cut at the log lines the steps write.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRuntime } from '../core/config/runtime';
import { letHeapGrowWithStreams } from '../core/io/heap-growth';
import { consoleLogger, silentLogger, type Logger } from '../core/logger';
import { builtinPlugins } from '../drivers';
import { localWorkflows } from '../statemachines/local/local-workflows';
import { timed } from './timing';

/** A logger that keeps when each message was logged (the steps' boundaries), passing every line on to `inner`. */
export function recordingLogger(inner: Logger): Logger & { marks: Array<{ at: number; message: string }> } {
  const marks: Array<{ at: number; message: string }> = [];
  const keep = (level: keyof Logger) => (message: string, extra?: Record<string, unknown>) => {
    marks.push({ at: Date.now(), message });
    inner[level](message, extra);
  };
  return { marks, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

let clockTicks: number | undefined;

/** CPU seconds so far of this process (every thread), of its waited-for children (the tools' pipelines), and of process `pid` (a server). */
export async function cpuSeconds(pid: number): Promise<{ ours: number; tools: number; server: number }> {
  // /proc/<pid>/stat after the command's ')': field 3 onwards; utime 14, stime 15, cutime 16, cstime 17.
  const fields = async (of: string) => (await readFile(`/proc/${of}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ').map(Number);
  const own = await fields('self');
  const server = await fields(String(pid));
  const usage = process.cpuUsage();
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return { ours: (usage.user + usage.system) / 1e6, tools: (own[13] + own[14]) / clockTicks, server: (server[11] + server[12]) / clockTicks };
}

export type Cpu = Awaited<ReturnType<typeof cpuSeconds>>;

/** `fn`'s value, wall time (ms) and the CPU seconds spent meanwhile (see {@link cpuSeconds}) with server `pid`. */
export async function measured<T>(pid: number, fn: () => Promise<T>): Promise<[T, number, Cpu]> {
  const before = await cpuSeconds(pid);
  const [value, ms] = await timed(fn);
  const after = await cpuSeconds(pid);
  return [value, ms, { ours: after.ours - before.ours, tools: after.tools - before.tools, server: after.server - before.server }];
}

/** Durations (ms) between `start`, the first time each of `messages` was logged after it, and `end`. */
export function phases(marks: ReadonlyArray<{ at: number; message: string }>, start: number, end: number, messages: readonly string[]): number[] {
  const points = [start, ...messages.map((message) => marks.find((m) => m.at >= start && m.message === message)?.at ?? NaN), end];
  return points.slice(1).map((point, i) => point - points[i]);
}

/** A timed run: wall time, CPU seconds, and its phases (ms) between the log lines it is cut at. */
export interface Run {
  ms: number;
  cpu?: Cpu;
  phases?: number[];
}

/**
 * The workflows a benchmark runs in process (the synthesized state machines, a local directory
 * store and spool under `work`, restores allowed into `work` and onto 127.0.0.1), and the logger
 * whose marks cut their phases: silent, or with BENCH_LOG=info|debug the steps' log lines on
 * stderr, with their times (where a run's time goes).
 */
export async function benchWorkflows(work: string): Promise<{ workflows: ReturnType<typeof localWorkflows>; logger: ReturnType<typeof recordingLogger> }> {
  const logLevel = process.env.BENCH_LOG === 'info' || process.env.BENCH_LOG === 'debug' ? process.env.BENCH_LOG : 'error';
  const logger = recordingLogger(logLevel === 'error' ? silentLogger : consoleLogger(logLevel));
  letHeapGrowWithStreams(); // as the CLI does: the workflows run in this process
  const runtime = await createRuntime(
    { storeUrl: path.join(work, 'store'), spoolRoot: path.join(work, 'spool'), logLevel, env: {}, restoreRoots: [work], restoreServers: ['127.0.0.1:*'] },
    logger, { builtins: builtinPlugins() },
  );
  return { workflows: localWorkflows(runtime, { waitMs: 10 }), logger };
}
