/**
 * The small logging surface services depend on. The CLI gives a pino-free console logger; Lambda
 * handlers pass a Powertools Logger, which satisfies the same shape.
 */
import { LOG_LEVELS, type LogLevel } from './config/settings';

export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Discards everything; the default for services and tests. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Writes JSON lines to stderr at or above `level`. */
export function consoleLogger(level: LogLevel = 'info'): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const write = (lvl: LogLevel) => (message: string, extra?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    process.stderr.write(`${JSON.stringify({ level: lvl, time: new Date().toISOString(), message, ...extra })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
