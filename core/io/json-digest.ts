/** The sha256 (hex) of a JSON value as JSON.stringify writes it: a record's identity, e.g. of a manifest or a restore's chain. */
import { createHash } from 'node:crypto';

export function jsonSha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
