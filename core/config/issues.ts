/**
 * One line that names every bad field of a validated input, for error messages whose first line
 * must say what to fix: `port: expected number, received string; physical.datadir: must be absolute`.
 *
 * Works with zod's issues (any zod copy: external plugins bring their own) and falls back to the
 * error's message for validators that have no issues.
 */

/** The part of a validation issue this needs (zod 3 and 4 both have it). */
export interface IssueLike {
  path?: readonly PropertyKey[];
  message: string;
  code?: string;
  keys?: readonly string[];
}

/** `['instances', 0, 'config', 'password']` → `instances[0].config.password`; empty → `root`. */
export function fieldPath(segments: readonly PropertyKey[], root = '(root)'): string {
  if (segments.length === 0) return root;
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i === 0 ? '' : '.'}${String(s)}`)).join('');
}

/** One issue as the fields it is about and the problem with each, in words a user acts on. */
export function issueProblems(issue: IssueLike): Array<{ path: readonly PropertyKey[]; problem: string }> {
  const at = issue.path ?? [];
  if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) {
    return issue.keys.map((key) => ({ path: [...at, key], problem: 'unknown field' }));
  }
  const expected = /^Invalid input: expected (.+), received undefined$/.exec(issue.message);
  return [{ path: at, problem: expected ? `required (expected ${expected[1]})` : issue.message.replace(/^Invalid input: /, '') }];
}

/** One issue as `<field>: <problem>`, in words a user acts on. */
export function describeIssue(issue: IssueLike, root?: string): string {
  return issueProblems(issue).map(({ path, problem }) => `${fieldPath(path, root)}: ${problem}`).join('; ');
}

/** The issues of `error` (a zod error or anything with `issues`), if it has any. */
export function issuesOf(error: unknown): IssueLike[] | undefined {
  const issues = (error as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return undefined;
  return issues.every((i) => typeof (i as { message?: unknown })?.message === 'string') ? (issues as IssueLike[]) : undefined;
}

/**
 * Every problem of a failed validation on one line, `; `-separated.
 *
 * @example
 * ```ts
 * const parsed = schema.safeParse(input);
 * if (!parsed.success) throw new PermanentError(`invalid config: ${formatIssues(parsed.error)}`, { code: 'INVALID_CONFIG' });
 * // invalid config: port: expected number, received string; user: required (expected string)
 * ```
 */
export function formatIssues(error: unknown, root?: string): string {
  return formatIssuesUnder(error, [], root);
}

/** {@link formatIssues}, each field named under `under` (e.g. `['facts']` gives `facts.keyCount`). */
export function formatIssuesUnder(error: unknown, under: readonly PropertyKey[], root?: string): string {
  const issues = issuesOf(error);
  if (issues) return issues.map((issue) => describeIssue({ ...issue, path: [...under, ...(issue.path ?? [])] }, root)).join('; ');
  const message = (error as { message?: unknown } | null)?.message;
  return (typeof message === 'string' ? message : String(error)).replace(/\s*\n\s*/g, ' ');
}
