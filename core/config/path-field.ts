/**
 * The schema of every config or restore-target field that names a file or directory on a host
 * (a data dir, a socket). A restore writes to, and with `--force` replaces, what such a field
 * names, so it must name exactly one place: an absolute path with no `..` segment
 * (`/srv/a/../../etc` names `/etc`, not a directory under `/srv/a`).
 */
import path from 'node:path';
import { z } from 'zod';

/** Why `value` is not an acceptable host path, or undefined when it is one. */
export function hostPathProblem(value: string): string | undefined {
  if (!path.posix.isAbsolute(value)) return `must be an absolute path (got '${value}')`;
  if (value.split('/').includes('..')) return `must not contain '..' segments (got '${value}')`;
  // Paths end up in config files and command lines (a ZooKeeper's zoo.cfg, say): a control
  // character or a backslash there could add a line or escape one.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return 'must not contain control characters or backslashes';
  return undefined;
}

/**
 * A zod string schema for a host path field; the issue lands on the field, so the error names it
 * (`invalid restore target for engine 'etcd': dataDir: must not contain '..' segments (got …)`).
 *
 * @example
 * ```ts
 * const target = z.strictObject({ dataDir: absolutePath(), socketPath: absolutePath().optional() });
 * ```
 */
export function absolutePath(): z.ZodString {
  return z.string().min(1).superRefine(function checkHostPath(value, ctx) {
    const problem = hostPathProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}
