/**
 * A progress bar with rate and ETA on stderr, shown only on a terminal and only once a transfer
 * has lasted longer than a moment.
 */
import { SingleBar, Presets } from 'cli-progress';
import { formatBytes } from '../core/config/units';

const SHOW_AFTER_MS = 700;

export interface ProgressReporter {
  (phase: string, transferred: number, total: number | undefined): void;
  stop(): void;
}

export function progressReporter(enabled: boolean): ProgressReporter {
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
    if (!bar && Date.now() - started < SHOW_AFTER_MS) return;
    if (!bar) {
      bar = new SingleBar({
        stream: process.stderr,
        format: `${phase.padEnd(8)} [{bar}] {percentage}% | {done} / {size} | {rate}/s | ETA {eta_formatted}`,
        hideCursor: true,
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
