/**
 * The one rule for secrets in a config or restore target: a field whose name is a secret word
 * (`password`, `token`, `clientSecret`, … see {@link isSecretValuedKey}) holds a
 * `{ "$secret": "<scheme>:<ref>" }` reference, never the secret itself; and a reference stands only
 * in such a field. Any other field (a data dir, a URL, a member name) may end up in a step's output,
 * a log line or the next step's command line, so a secret resolved into it would leak there. A URL
 * anywhere must not carry a password either (`http://root:secret@etcd:2379`). The CLI's `--config`
 * and `--target`, the state machines' inputs and the instances file all check it with
 * {@link refuseInlineSecrets}; they differ only in which reference schemes they accept.
 */
import { z } from 'zod';
import { isSecretValuedKey } from '../secrets';

/** A reference any runner resolves: `env:NAME`, `file:/path`, `ssm:/param`, `secretsmanager:<id>[#key]`. */
export const anySecretRefSchema = z.strictObject({
  $secret: z.string().regex(/^(env:\S+|file:\S+|ssm:\/\S+|secretsmanager:\S+)$/,
    'must be "env:<NAME>", "file:<path>", "ssm:/<parameter>" or "secretsmanager:<name-or-arn>[#key]"'),
});

export interface InlineSecretRule {
  /** Which `{ "$secret": ... }` objects are acceptable references. */
  refSchema: z.ZodType;
  /** What the issue on an inline secret says, e.g. why it must be a reference. */
  message: string;
}

/** What the issue on a reference outside a secret field says. */
const NOT_A_SECRET_FIELD = 'a { "$secret": ... } reference is accepted only in a field that holds a secret (password, token, secret, apiKey, …), and this field is none (its name misspelt?)';

/**
 * A zod refinement: adds an issue at every secret-named field that holds a value (a non-empty
 * string or a number), at every `$secret` object `rule.refSchema` refuses, and at every `$secret`
 * object that is not the value of a secret-named field. An empty string is no secret (a user
 * without a password), so it passes.
 *
 * @example
 * ```ts
 * const config = z.record(z.string(), z.unknown()).superRefine(refuseInlineSecrets({ refSchema: anySecretRefSchema, message: 'must be a reference' }));
 * config.safeParse({ password: 'hunter2' }); // issue at ['password']
 * ```
 */
export function refuseInlineSecrets(rule: InlineSecretRule): (value: unknown, ctx: z.RefinementCtx) => void {
  return function checkSecretFields(value, ctx) {
    walk(value, [], rule, ctx);
  };
}

/** True when `text` is a URL carrying a password (`http://user:secret@host`). */
function urlWithPassword(text: string): boolean {
  if (!text.includes('://') || !text.includes('@')) return false;
  try {
    return new URL(text).password.length > 0;
  } catch {
    return false;
  }
}

function walk(value: unknown, at: PropertyKey[], rule: InlineSecretRule, ctx: z.RefinementCtx): void {
  if (typeof value === 'string' && urlWithPassword(value)) {
    ctx.addIssue({ code: 'custom', path: at, message: 'a URL must not carry a password (user:password@host); give the driver\'s user and password fields instead, the password by reference' });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, [...at, i], rule, ctx));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if ('$secret' in record) {
    const field = at[at.length - 1];
    if (typeof field !== 'string' || !isSecretValuedKey(field)) {
      ctx.addIssue({ code: 'custom', path: at, message: NOT_A_SECRET_FIELD });
      return;
    }
    const ref = rule.refSchema.safeParse(record);
    if (!ref.success) {
      for (const issue of ref.error.issues) {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
        for (const key of keys) {
          ctx.addIssue({ code: 'custom', path: [...at, ...issue.path, ...(key === undefined ? [] : [key])], message: key === undefined ? issue.message : 'unknown field' });
        }
      }
    }
    return;
  }
  for (const [key, child] of Object.entries(record)) {
    const inline = (typeof child === 'string' && child.length > 0) || typeof child === 'number';
    if (isSecretValuedKey(key) && inline && !(typeof child === 'string' && urlWithPassword(child))) {
      ctx.addIssue({ code: 'custom', path: [...at, key], message: rule.message });
    } else {
      walk(child, [...at, key], rule, ctx);
    }
  }
}

/**
 * A driver config or restore target as a request carries it (before its secrets are resolved):
 * any JSON object whose secrets are references of any scheme.
 */
export const secretsByReferenceSchema = z.record(z.string(), z.any()).superRefine(refuseInlineSecrets({
  refSchema: anySecretRefSchema,
  message: 'must be a { "$secret": "<scheme>:<ref>" } reference (ssm: or secretsmanager:; locally also env: or file:), not the secret itself',
}));
