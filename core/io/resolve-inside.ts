/**
 * Names that must stay inside their directory: artifact names in a spool, object keys in a
 * directory store. A name comes from a manifest or an input, so it is checked before it becomes a
 * path on this host.
 */
import path from 'node:path';
import { PermanentError } from '../errors';

/** Resolves `name` inside `dir`, refusing names that escape it (PermanentError `INVALID_PATH`). */
export function resolveInside(dir: string, name: string): string {
  const resolved = path.resolve(dir, name);
  const root = path.resolve(dir);
  if (name.length === 0 || path.isAbsolute(name) || !resolved.startsWith(root + path.sep)) {
    throw new PermanentError(`artifact name '${name}' escapes its directory`, { code: 'INVALID_PATH' });
  }
  return resolved;
}
