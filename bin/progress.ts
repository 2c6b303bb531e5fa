/**
 * A progress bar with rate and ETA on stderr, shown only on a terminal and only once a transfer
 * has lasted longer than a moment. Stopped (a log line to write, the phase done), it clears its
 * line: a log line is not written under a frame left in the scrollback, and the next report draws
 * it again.
 */
import { SingleBar, Presets } from 'cli-progress';
import { formatBytes } from '../core/config/units';

const SHOW_AFTER_MS = 700;

export interface ProgressReporter {
  (phase: string, transferred: number, total: number | undefined): void;
  stop(): void;
}

export function progressReporter(enabled: boolean, stream: NodeJS.WriteStream = process.stderr, showAfterMs = SHOW_AFTER_MS): ProgressReporter {
  let bar: SingleBar | undefined;
  let phase = '';
  let started = 0;
  const payload = (transferred: number, total: number) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    return { size: formatBytes(total), done: formatBytes(transferred), rate: formatBytes(transferred / seconds) };
  };
  const report = ((name: string, transferred: number, total: number | undefined) => {
    if (!enabled || !total) return;
    if (name !== phase) {
      bar?.stop();
      bar = undefined;
      phase = name;
      started = Date.now();
    }
    if (!bar && Date.now() - started < showAfterMs) return;
    if (!bar) {
      bar = new SingleBar({
        stream,
        format: `${phase.padEnd(8)} [{bar}] {percentage}% | {done} / {size} | {rate}/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
      }, Presets.shades_classic);
      bar.start(total, transferred, payload(transferred, total));
    }
    bar.update(transferred, payload(transferred, total));
  }) as ProgressReporter;
  report.stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return report;
}
