/**
 * A row as canonical bytes: the same data gives the same bytes whichever driver options decoded it
 * (maps as objects or `Map`s, sets as arrays or `Set`s), on any machine (no time zone, no locale).
 *
 * A row is the JSON text of its `[column, value]` pairs, columns sorted by name, framed by its byte
 * length as a big-endian u32. Values: Buffer → hex; Long, Integer (varint), bigint → decimal string;
 * BigDecimal → its exact text ({@link decimalText}); Uuid, TimeUuid, InetAddress, LocalDate, LocalTime, Duration → their string;
 * Date → ISO 8601; list, set, tuple → array; map → `[key, value]` pairs sorted by key, the key as a
 * string (a `Map`'s keys canonical first; a plain object's keys are the driver's strings already);
 * a non-finite number → its string (`NaN`, `Infinity`); null → null.
 *
 * A map decoded as a plain object keeps the driver's `String(key)`: exact for text, numeric,
 * boolean, uuid and inet keys, but time-zone dependent for timestamp keys and lossy for blob,
 * tuple, user-type and frozen collection keys. The driver's clients (cql-client.ts) decode maps as
 * `Map`: each key canonical, any key type exact. For the key types a plain object holds exactly,
 * both give the same bytes (a `Map` key's canonical text is its `String(key)`), so digests taken
 * before maps were decoded as `Map` still match. Pairs are sorted by key text (UTF-16 code units),
 * equal texts (timestamps out of Date's range, all `Invalid Date`) keeping the server's order.
 */
import { types } from 'cassandra-driver';
import { PermanentError } from '../../core/errors';

export type CanonicalValue = null | boolean | number | string | CanonicalValue[];

/**
 * How decimals are written: `exact` ({@link decimalText}), or `driver`, the driver's text, which
 * drops a negative scale — how digests were taken before (records.ts `decimals`), read so again
 * to compare with them.
 */
export type DecimalForm = 'exact' | 'driver';

/** The canonical form of one decoded value (see the file's header). */
export function canonicalValue(value: unknown, decimals: DecimalForm = 'exact'): CanonicalValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (
    value instanceof types.Long || value instanceof types.Integer || value instanceof types.Uuid
    || value instanceof types.InetAddress || value instanceof types.LocalDate || value instanceof types.LocalTime || value instanceof types.Duration
  ) {
    return value.toString();
  }
  if (value instanceof types.BigDecimal) return decimals === 'exact' ? decimalText(value) : value.toString();
  if (value instanceof types.Tuple) return value.values().map((item) => canonicalValue(item, decimals));
  if (Array.isArray(value) || value instanceof Set) return [...value].map((item) => canonicalValue(item, decimals));
  if (value instanceof Map) return sortedPairs([...value].map(([key, item]) => [keyText(key, decimals), canonicalValue(item, decimals)]));
  if (Object.getPrototypeOf(value) === Object.prototype) {
    return sortedPairs(Object.entries(value).map(([key, item]) => [key, canonicalValue(item, decimals)]));
  }
  throw new PermanentError(`no canonical form for a ${value.constructor?.name ?? typeof value} value`, { code: 'CASSANDRA_DIGEST_UNSUPPORTED_VALUE', engine: 'cassandra' });
}

/**
 * A decimal's exact text: the driver's (`12.340`) for a scale from 0 to {@link PLAIN_SCALE}, else
 * `<unscaled>E<-scale>` with its sign (`1E+3`, `5E-2000`): the driver's text drops a negative
 * scale (1E+3 and 1E+4 both read `1.` there), and writes one zero per unit of a positive one (a
 * scale of 2^31 - 1 would not fit a string). The scale is read from the value's wire form (the
 * driver has no getter).
 */
function decimalText(value: types.BigDecimal): string {
  const wire = types.BigDecimal.toBuffer(value);
  const scale = wire.readInt32BE(0);
  if (scale >= 0 && scale <= PLAIN_SCALE) return value.toString();
  return `${types.Integer.fromBuffer(wire.subarray(4)).toString()}E${scale < 0 ? '+' : '-'}${Math.abs(scale)}`;
}

/** The largest scale a decimal's exact text writes out in full ({@link decimalText}). */
const PLAIN_SCALE = 1_000;

/** A map key as a string: the canonical string itself, or the JSON of any other canonical form. */
function keyText(key: unknown, decimals: DecimalForm): string {
  const canonical = canonicalValue(key, decimals);
  return typeof canonical === 'string' ? canonical : JSON.stringify(canonical);
}

function sortedPairs(pairs: Array<[string, CanonicalValue]>): CanonicalValue[] {
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * `value` as the driver decodes it when maps are plain objects (its default, and how digests were
 * taken before maps were decoded as `Map`): each `Map`, however deep (in a list, a tuple, a user
 * type, another map's key or value), turned into the object the driver would have built, each
 * entry set as `object[key] = value` — so a key is named by `String(key)`, a later equal name
 * replaces an earlier one, and `__proto__` is dropped, exactly as then. A backup's digest taken
 * that way is compared with rows read this way (records.ts `mapKeys`).
 */
export function withMapsAsObjects(value: unknown): unknown {
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) object[withMapsAsObjects(key) as string] = withMapsAsObjects(item);
    return object;
  }
  if (Array.isArray(value)) return value.map(withMapsAsObjects);
  if (value instanceof types.Tuple) return new types.Tuple(...value.values().map(withMapsAsObjects));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([field, item]) => [field, withMapsAsObjects(item)]));
  }
  return value;
}

/** The canonical JSON text of a row: `[[column, value], …]`, columns in name order. */
export function canonicalRowText(row: Readonly<Record<string, unknown>>, decimals: DecimalForm = 'exact'): string {
  const names = Object.keys(row).sort();
  return JSON.stringify(names.map((name) => [name, canonicalValue(row[name], decimals)]));
}

/** The row's canonical bytes, framed: u32be(byte length) then the text. */
export function canonicalRowFrame(row: Readonly<Record<string, unknown>>, decimals: DecimalForm = 'exact'): Buffer {
  const text = Buffer.from(canonicalRowText(row, decimals), 'utf8');
  const frame = Buffer.alloc(4 + text.length);
  frame.writeUInt32BE(text.length);
  text.copy(frame, 4);
  return frame;
}
