/**
 * Object keys are relative, slash-separated paths. The same rules hold for every store, so a key
 * that works against a local directory also works against S3 and can never escape the store root.
 */
import { PermanentError } from '../errors';

/**
 * Throws PermanentError `INVALID_KEY` unless `key` is a safe relative key: non-empty, not absolute,
 * no backslashes, no empty, `.` or `..` segments, no control characters.
 */
export function assertSafeKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) {
    throw new PermanentError(`invalid object key ${JSON.stringify(key)}: ${problem}`, { code: 'INVALID_KEY' });
  }
}

/** Why `key` is not a safe relative key (see {@link assertSafeKey}), or undefined when it is one. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'it is empty';
  if (key.startsWith('/')) return 'it is an absolute path';
  if (key.includes('\\')) return 'it contains a backslash';
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'it contains a control character';
  if (/^[A-Za-z]:/.test(key)) return 'it starts with a drive letter';
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty path segment';
    if (segment === '..') return "it has a '..' segment";
    if (segment === '.') return "it has a '.' segment";
  }
  return undefined;
}

/**
 * Checks a listing prefix: `''` lists everything; otherwise the prefix, minus an optional trailing
 * slash and an unfinished last segment, must be a safe key. Throws PermanentError `INVALID_KEY`.
 */
export function assertSafePrefix(prefix: string): void {
  if (prefix === '') return;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  assertSafeKey(trimmed);
}

/** Checks a folder prefix: `''` (the top) or a safe key ending in `/`. Throws PermanentError `INVALID_KEY`. */
export function assertFolderPrefix(prefix: string): void {
  if (prefix !== '' && !prefix.endsWith('/')) {
    throw new PermanentError(`invalid folder ${JSON.stringify(prefix)}: a folder ends in /`, { code: 'INVALID_KEY' });
  }
  assertSafePrefix(prefix);
}

/** Orders objects by key, comparing UTF-8 bytes as S3 does. */
export function byKey(a: { key: string }, b: { key: string }): number {
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
}
