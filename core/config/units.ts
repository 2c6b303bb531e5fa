/** Parsing of the human units operators type: sizes, rates and durations. */
import { PermanentError } from '../errors';

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3,
};

/**
 * Bytes from `50MB`, `8MiB`, `1.5g`, `1024` (a `/s` suffix is allowed, for rates).
 * @example parseSize('10MiB/s') // 10485760
 */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*(?:\/s)?\s*$/i.exec(text);
  const factor = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new PermanentError(`'${text}' is not a size or rate (try 50MB, 8MiB, 1GB, 50MB/s; bytes, not bits)`, { code: 'INVALID_INPUT' });
  }
  return Math.round(Number(match[1]) * factor);
}

const DURATION_UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/**
 * Milliseconds from `30d`, `12h`, `90m`, `2w`.
 * @example parseDuration('2h') // 7200000
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (!match) throw new PermanentError(`'${text}' is not a duration (try 90m, 12h, 30d, 2w)`, { code: 'INVALID_INPUT' });
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2].toLowerCase()]);
}

/** `1.5 MB` style, for summaries. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

