/**
 * Secrets in instance configs are references, never values: an object of the exact shape
 * `{ "$secret": "<ref>" }` is replaced by the secret's string just before use. Refs:
 *
 * - `env:NAME` — an environment variable;
 * - `file:/path` — a file's content (one trailing newline dropped, as secret mounts usually add one);
 * - `ssm:/param/name` — an SSM Parameter Store parameter (decrypted);
 * - `secretsmanager:<arn-or-name>[#jsonKey]` — a Secrets Manager SecretString, or one field of it when it is JSON.
 *
 * Errors name the ref, never a value. {@link redactSecrets} makes a config safe to log.
 */
import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { isNetworkError, PermanentError, TransientError } from './errors';

/**
 * Returns the secret a ref points to. `field` (e.g. `password`) names where the ref stands, for
 * error messages.
 */
export type SecretResolver = (ref: string, field?: string) => Promise<string>;

/** The reference schemes: `env:`, `file:`, `ssm:`, `secretsmanager:`. */
export const SECRET_SCHEMES = ['env', 'file', 'ssm', 'secretsmanager'] as const;
export type SecretScheme = (typeof SECRET_SCHEMES)[number];

/** Where an AWS client connects; `endpoint` lets an SSM stand-in or LocalStack serve it. */
export interface AwsClientOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface SecretResolverOptions {
  /** Environment for `env:` refs. */
  env: Record<string, string | undefined>;
  /**
   * The schemes this process resolves (core/config/platform.ts: in AWS only `ssm` and
   * `secretsmanager`); a ref of another scheme is refused with PermanentError `SECRET_REF_REFUSED`.
   * @default every scheme
   */
  schemes?: readonly SecretScheme[];
  ssm?: AwsClientOptions;
  secretsManager?: AwsClientOptions;
}

function unresolved(ref: string, reason: string, cause?: unknown): PermanentError {
  return new PermanentError(`secret '${ref}' could not be resolved: ${reason}`, { code: 'SECRET_UNRESOLVED', cause });
}

/** Refuses a ref of a known scheme not among `schemes` (an `env:` or `file:` ref in AWS). */
function assertSchemeResolved(ref: string, field: string | undefined, schemes: readonly SecretScheme[]): void {
  const scheme = ref.slice(0, Math.max(0, ref.indexOf(':')));
  if ((SECRET_SCHEMES as readonly string[]).includes(scheme) && !schemes.includes(scheme as SecretScheme)) throw refused(ref, field, schemes);
}

/** What a reference stands in as where a value is only checked, its secrets unread ({@link standInResolver}, {@link withSecretPlaceholders}). */
export const SECRET_STAND_IN = 'secret-resolved-at-run-time';

/**
 * A resolver that reads no secret: each reference stands in as {@link SECRET_STAND_IN} — for a
 * value only parsed, whose secrets a later step (on the host that uses them) reads. A reference of
 * a scheme `schemes` leaves out is refused all the same, as {@link createSecretResolver} would.
 */
export function standInResolver(schemes: readonly SecretScheme[] = SECRET_SCHEMES): SecretResolver {
  return async function standIn(ref: string, field?: string): Promise<string> {
    assertSchemeResolved(ref, field, schemes);
    return SECRET_STAND_IN;
  };
}

/** A ref of a scheme this process does not resolve (an `env:` or `file:` ref in AWS). */
function refused(ref: string, field: string | undefined, schemes: readonly SecretScheme[]): PermanentError {
  return new PermanentError(
    `${field ? `${field}: ` : ''}secret reference '${ref}' is refused: here only ${schemes.map((s) => `${s}:`).join(' and ')} references are resolved (in AWS secrets come from SSM Parameter Store or Secrets Manager, never from the environment or files of the function or the host)`,
    { code: 'SECRET_REF_REFUSED' },
  );
}

const NOT_FOUND = new Set(['ParameterNotFound', 'ParameterVersionNotFound', 'ResourceNotFoundException']);
const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'InternalServerError', 'InternalServiceError', 'InternalServiceErrorException']);

/** Maps an AWS SDK failure: throttling, 5xx and network errors are transient; the rest permanent. */
function awsError(ref: string, error: unknown): TransientError | PermanentError {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e?.name && NOT_FOUND.has(e.name)) return unresolved(ref, 'it does not exist', error);
  const status = e?.$metadata?.httpStatusCode ?? 0;
  if ((e?.name && THROTTLED.has(e.name)) || status >= 500 || e?.$retryable || isNetworkError(error)) {
    return new TransientError(`secret '${ref}' is temporarily unavailable (${e?.name ?? 'error'})`, { code: 'SECRET_UNAVAILABLE', cause: error });
  }
  return unresolved(ref, `${e?.name ?? 'error'} from AWS`, error);
}

/** Picks `key` from a JSON SecretString. The parse error is not kept: it can quote the secret. */
function jsonField(ref: string, secret: string, key: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    throw unresolved(ref, 'the secret is not a JSON object, so it has no field to pick');
  }
  const value = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[key] : undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw unresolved(ref, `the secret has no string field '${key}'`);
}

/**
 * A resolver for the four schemes. AWS clients are created on first use, once.
 *
 * @example
 * ```ts
 * const resolver = createSecretResolver({ env: process.env, ssm: { region: 'eu-west-1', endpoint: 'http://localhost:4566' } });
 * const config = await resolveSecrets(rawConfig, resolver);
 * ```
 */
export function createSecretResolver(options: SecretResolverOptions): SecretResolver {
  let ssm: SSMClient | undefined;
  let secretsManager: SecretsManagerClient | undefined;
  const schemes = options.schemes ?? SECRET_SCHEMES;
  return async function resolveSecretRef(ref: string, field?: string): Promise<string> {
    const colon = ref.indexOf(':');
    const scheme = colon > 0 ? ref.slice(0, colon) : '';
    const rest = ref.slice(colon + 1);
    assertSchemeResolved(ref, field, schemes);
    if (rest.length === 0) throw unresolved(ref, 'the reference is empty after its scheme');
    switch (scheme) {
      case 'env': {
        const value = options.env[rest];
        if (value === undefined) throw unresolved(ref, `environment variable ${rest} is not set`);
        return value;
      }
      case 'file': {
        try {
          return (await readFile(rest, 'utf8')).replace(/\r?\n$/, '');
        } catch (error) {
          throw unresolved(ref, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
        }
      }
      case 'ssm': {
        ssm ??= new SSMClient({ ...options.ssm });
        try {
          const out = await ssm.send(new GetParameterCommand({ Name: rest, WithDecryption: true }));
          if (out.Parameter?.Value === undefined) throw unresolved(ref, 'the parameter has no value');
          return out.Parameter.Value;
        } catch (error) {
          if (error instanceof PermanentError) throw error;
          throw awsError(ref, error);
        }
      }
      case 'secretsmanager': {
        const hash = rest.indexOf('#');
        const secretId = hash >= 0 ? rest.slice(0, hash) : rest;
        const field = hash >= 0 ? rest.slice(hash + 1) : undefined;
        secretsManager ??= new SecretsManagerClient({ ...options.secretsManager });
        let secret: string | undefined;
        try {
          secret = (await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
        } catch (error) {
          throw awsError(ref, error);
        }
        if (secret === undefined) throw unresolved(ref, 'the secret has no SecretString (binary secrets are not supported)');
        return field === undefined ? secret : jsonField(ref, secret, field);
      }
      default:
        throw unresolved(ref, `unknown scheme '${scheme}' (use env:, file:, ssm: or secretsmanager:)`);
    }
  };
}

/** Every `$secret` reference in `value` (e.g. to check them against the stack's grants, or what AWS resolves). */
export function secretRefs(value: unknown): string[] {
  if (isSecretRef(value)) return [value.$secret];
  if (Array.isArray(value)) return value.flatMap(secretRefs);
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(secretRefs);
}

/** `value` with every `{ "$secret": ... }` replaced by a placeholder string, as it is once resolved (to check a config's shape without its secrets). */
export function withSecretPlaceholders(value: unknown): unknown {
  if (isSecretRef(value)) return SECRET_STAND_IN;
  if (Array.isArray(value)) return value.map(withSecretPlaceholders);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, withSecretPlaceholders(child)]));
}

/** True for an object of the exact shape `{ "$secret": "<ref>" }`. */
export function isSecretRef(value: unknown): value is { $secret: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === '$secret' && typeof (value as { $secret: unknown }).$secret === 'string';
}

/**
 * Returns a copy of a JSON config with every `{ "$secret": "<ref>" }` replaced by the secret's value.
 * Each distinct ref is fetched once. An object that has `$secret` but is not of the exact shape is
 * refused rather than passed through.
 *
 * @throws PermanentError `SECRET_UNRESOLVED` (naming the ref, never a value); TransientError `SECRET_UNAVAILABLE`.
 * @example
 * ```ts
 * const config = await resolveSecrets({ host: 'db1', password: { $secret: 'env:DB_PASSWORD' } });
 * // → { host: 'db1', password: '...' }
 * ```
 */
export async function resolveSecrets<T = unknown>(value: T, resolver: SecretResolver = createSecretResolver({ env: process.env })): Promise<T> {
  const cache = new Map<string, Promise<string>>();
  async function walk(node: unknown, where: string): Promise<unknown> {
    if (Array.isArray(node)) return Promise.all(node.map((item, i) => walk(item, `${where}[${i}]`)));
    if (node === null || typeof node !== 'object') return node;
    if (isSecretRef(node)) {
      const ref = node.$secret;
      if (!cache.has(ref)) cache.set(ref, resolver(ref, where || undefined));
      return cache.get(ref);
    }
    if ('$secret' in node) {
      throw new PermanentError(`${where || 'config'}: a secret reference must be exactly { "$secret": "<scheme>:<ref>" }`,
        { code: 'SECRET_UNRESOLVED' });
    }
    const entries = await Promise.all(Object.entries(node).map(async ([key, child]) => [key, await walk(child, where ? `${where}.${key}` : key)] as const));
    return Object.fromEntries(entries);
  }
  return (await walk(value, '')) as T;
}

/** Words that make a config key's value a secret (matched with `-` and `_` taken out of the key). */
const SECRET_WORDS = 'password|passwd|secret|token|credentials?|privatekey|apikey|accesskey';
const CONTAINS_SECRET_WORD = new RegExp(SECRET_WORDS, 'i');
const ENDS_WITH_SECRET_WORD = new RegExp(`(${SECRET_WORDS})$`, 'i');

/** Keys whose values {@link redactSecrets} masks: any key holding a secret word (`dbPassword`, `api_key_id`). */
function isSensitiveKey(key: string): boolean {
  return CONTAINS_SECRET_WORD.test(key.replace(/[-_]/g, ''));
}

/**
 * Keys that end in a secret word but hold no secret: etcd's `clusterToken` (`--initial-cluster-token`)
 * only keeps two clusters from joining each other by mistake, and a restore returns it as part of
 * where the restored cluster is. Compared without `-`, `_` and case.
 */
const NOT_SECRETS = new Set(['clustertoken']);

/**
 * Keys whose values ARE secrets, and so must be given by reference, never inline (and are the only
 * keys a reference may stand in): those ending in a secret word (`password`, `clientSecret`,
 * `access_key`), but not `passwordFile` and the like, nor the few in {@link NOT_SECRETS}.
 */
export function isSecretValuedKey(key: string): boolean {
  const bare = key.replace(/[-_]/g, '');
  return ENDS_WITH_SECRET_WORD.test(bare) && !NOT_SECRETS.has(bare.toLowerCase());
}

/** What masked values are replaced with. */
export const REDACTED = '***';

/**
 * A copy safe to log: secret refs stay refs (they are not secret), values under sensitive keys are
 * masked, and passwords inside URLs (`scheme://user:pass@host`) are masked.
 *
 * @example
 * ```ts
 * redactSecrets({ user: 'app', password: 'hunter2', token: { $secret: 'env:T' } });
 * // → { user: 'app', password: '***', token: { $secret: 'env:T' } }
 * ```
 */
export function redactSecrets<T>(value: T): T {
  const seen = new WeakSet<object>();
  function copy(node: unknown, sensitive: boolean): unknown {
    if (isSecretRef(node)) return { $secret: node.$secret };
    if (sensitive && node !== null && node !== undefined) return REDACTED;
    if (typeof node === 'string') return node.replace(/(\/\/[^/\s:@]*:)[^/\s@]*@/g, `$1${REDACTED}@`);
    if (node === null || typeof node !== 'object') return node;
    if (seen.has(node)) return '[Circular]';
    seen.add(node);
    const result = Array.isArray(node)
      ? node.map((item) => copy(item, false))
      : Object.fromEntries(Object.entries(node).map(([key, child]) => [key, copy(child, isSensitiveKey(key))]));
    seen.delete(node);
    return result;
  }
  return copy(value, false) as T;
}
