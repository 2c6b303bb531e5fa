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

/** How the console logger writes each entry: a JSON line (for machines) or a line of text (for a person at a terminal). */
export type LogFormat = 'json' | 'text';

/**
 * Writes to stderr, at or above `level`, a line per entry in `format` (text lines start with the
 * local time, `14:03:27`, so a person can tell how long a retry waited); `beforeLine` runs before
 * each line is written (a progress bar on the terminal clears its line).
 */
export function consoleLogger(level: LogLevel = 'info', format: LogFormat = 'json', beforeLine?: () => void): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const write = (lvl: LogLevel) => (message: string, extra?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    beforeLine?.();
    const now = new Date();
    const line = format === 'json' ? JSON.stringify({ level: lvl, time: now.toISOString(), message, ...extra }) : `${now.toTimeString().slice(0, 8)} ${logText(lvl, message, extra)}`;
    process.stderr.write(`${line}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

const WORDS: Record<LogLevel, string> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

/** A value of an entry for a person: text as it is, a list of texts joined (`none` when empty), anything else as JSON. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.length > 0 ? value.join(', ') : 'none';
  return JSON.stringify(value);
}

/**
 * `text` with its control characters escaped (`\n`, `\u001b`): a name from a database (a view's,
 * say) may hold any, and on a terminal they would split the line, move the cursor or retitle the
 * window — a line written over by a forged one.
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** An entry as a line of text: `dbbackup warning: message (key: value; key: value)`, control characters escaped. */
export function logText(level: LogLevel, message: string, extra?: Record<string, unknown>): string {
  const fields = Object.entries(extra ?? {}).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}: ${valueText(value)}`);
  return printable(`dbbackup ${WORDS[level]}: ${message}${fields.length > 0 ? ` (${fields.join('; ')})` : ''}`);
}
