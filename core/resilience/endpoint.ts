/**
 * What a circuit breaker protects: the endpoint a driver connects to for a config or restore
 * target (host:port, a socket, a list of URLs), not the instance name: a backup whose config was
 * wrong (a bad port) must not keep a corrected config of the same instance failing fast.
 *
 * Drivers say what their endpoint is (`BackupDriver.endpoint`, `RestoreDriver.endpoint`); for a
 * driver that does not, {@link defaultEndpoint} stands in: a digest of the config without its
 * secrets, so any change to the config is a new endpoint.
 */
import { createHash } from 'node:crypto';
import { redactSecrets } from '../secrets';

/** JSON with object keys sorted, so equal configs give equal text whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The endpoint of a driver that does not name one: `config-<digest>` of the parsed config with its
 * secret values masked (a changed password is the same endpoint; a changed port is another).
 */
export function defaultEndpoint(config: unknown): string {
  return `config-${createHash('sha256').update(canonicalJson(redactSecrets(config))).digest('hex').slice(0, 16)}`;
}

/**
 * The circuit breaker target of an instance's endpoint, e.g. `mysql/shop@127.0.0.1:3306`: the
 * endpoint keys it, and the engine and instance scope its state (`circuit-breakers/<engine>/<instance>/…`),
 * so a database host writes only its own instances' breakers.
 */
export function breakerTarget(engine: string, instance: string, endpoint: string): string {
  return `${engine}/${instance}@${endpoint}`;
}

/** `engine/instance@endpoint` split into its parts; undefined for a target of another shape. */
export function parseBreakerTarget(target: string): { engine: string; instance: string; endpoint: string } | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([A-Za-z0-9][A-Za-z0-9._-]*)@(.+)$/s.exec(target);
  if (!match || match[1].includes('..') || match[2].includes('..')) return undefined;
  return { engine: match[1], instance: match[2], endpoint: match[3] };
}
