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

/** The circuit breaker target of an engine's endpoint, e.g. `mysql@127.0.0.1:3306`. */
export function breakerTarget(engine: string, endpoint: string): string {
  return `${engine}@${endpoint}`;
}
