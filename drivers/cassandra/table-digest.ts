/**
 * Row counts and content digests of a table, per token span: taken at backup time and again after a
 * restore, equal when the restored cluster holds the same rows. The rows come back in token order,
 * then clustering order, whatever the topology, so the same data gives the same digest on one node
 * or twenty.
 *
 * Tokens are Murmur3's signed 64-bit values (-2^63 … 2^63-1) as decimal strings, handled as BigInt.
 * No key hashes to -2^63 (Murmur3 moves it to 2^63-1), so `(-2^63, end]` holds every key up to `end`.
 *
 * Reads are at consistency ALL by default: the digest must describe the union of every replica's
 * rows — what the union of the nodes' snapshots holds — not whichever replicas a QUORUM read
 * happens to consult (rows written at ONE may sit on one replica only, and two QUORUM reads could
 * see different sets). The price is that every replica must be up: a down one is a TransientError
 * (CASSANDRA_UNAVAILABLE), worth retrying, never a silently different digest.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { types, type Client } from 'cassandra-driver';
import { PermanentError } from '../../core/errors';
import { canonicalRowFrame, withMapsAsObjects, type DecimalForm } from './canonical-row';
import { cqlError } from './cql-errors';
import { qualifiedName, quoteIdentifier } from './cql-text';
import type { TableSchema } from './schema-cql';

export interface TokenSpan {
  /** exclusive */
  start: string;
  /** inclusive */
  end: string;
}

export interface SpanDigest extends TokenSpan {
  rows: number;
  /** Lower-case hex sha256 over the span's canonical row frames (canonical-row.ts), in the order read. */
  sha256: string;
  /** With {@link DigestOptions.findExpiring}: a row read had a cell with a TTL (it will expire). */
  expiring?: true;
}

const MIN_TOKEN = -(2n ** 63n);
const MAX_TOKEN = 2n ** 63n - 1n;
const RING_SIZE = 2n ** 64n;
/** Rows per page. */
const FETCH_SIZE = 1000;

function token(text: string): bigint {
  let value: bigint;
  try {
    value = BigInt(text);
  } catch {
    value = MAX_TOKEN + 1n;
  }
  if (value < MIN_TOKEN || value > MAX_TOKEN || !/^-?\d+$/.test(text)) {
    throw new PermanentError(`not a Murmur3 token: ${JSON.stringify(text)}`, { code: 'CASSANDRA_BAD_TOKEN', engine: 'cassandra' });
  }
  return value;
}

/**
 * The ring split at `tokens` (sorted as numbers, duplicates dropped) into the spans ending at each
 * token: (previous token, token]; the first wraps round from the last token.
 * @example spansEndingAt(['10', '-5']) // [{ start: '10', end: '-5' }, { start: '-5', end: '10' }]
 */
export function spansEndingAt(tokens: readonly string[]): TokenSpan[] {
  const sorted = [...new Set(tokens.map(token))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
  if (sorted.length === 0) throw new RangeError('a ring needs at least one token');
  return sorted.map((end, i) => ({ start: sorted[(i + sorted.length - 1) % sorted.length], end }));
}

/**
 * A deterministic sample of the ring: cut into `parts` equal spans, of which `take` (at most
 * `parts`) are chosen by a hash of `seed` (e.g. the table's name), returned in ring order. The same
 * inputs give the same spans on any machine.
 * @example sampleSpans(1024, 16, 'shop.items') // 16 spans, each 1/1024 of the ring
 */
export function sampleSpans(parts: number, take: number, seed: string): TokenSpan[] {
  if (!Number.isSafeInteger(parts) || parts < 1) throw new RangeError(`a ring is cut into at least one part, not ${parts}`);
  if (!Number.isSafeInteger(take) || take < 0) throw new RangeError(`cannot take ${take} parts`);
  const n = BigInt(parts);
  const boundary = (i: bigint) => (i === n ? MAX_TOKEN : MIN_TOKEN + (i * RING_SIZE) / n);
  return chooseIndices(parts, Math.min(take, parts), seed).map((i) => ({ start: String(boundary(BigInt(i))), end: String(boundary(BigInt(i) + 1n)) }));
}

/** `count` distinct indices below `size` (Floyd's sampling, randomness from sha256 of the seed), ascending. */
function chooseIndices(size: number, count: number, seed: string): number[] {
  const chosen = new Set<number>();
  let counter = 0;
  const below = (limit: number) => {
    const digest = createHash('sha256').update(`${seed}\n${counter++}`).digest();
    return Number(digest.readBigUInt64BE(0) % BigInt(limit));
  };
  for (let j = size - count; j < size; j++) {
    const pick = below(j + 1);
    chosen.add(chosen.has(pick) ? j : pick);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** The non-wrapping pieces (lo exclusive, hi inclusive) a span covers, in ring order from its start. */
function pieces(span: TokenSpan): Array<[bigint, bigint]> {
  const start = token(span.start);
  const end = token(span.end);
  if (start < end) return [[start, end]];
  const out: Array<[bigint, bigint]> = [];
  if (start < MAX_TOKEN) out.push([start, MAX_TOKEN]);
  if (end > MIN_TOKEN) out.push([MIN_TOKEN, end]);
  return out;
}

/** Whether `String(key)` of a map key of this type (a map decoded as a plain object) is lossy or time-zone dependent (a frozen collection's too). */
function lossyKeyType(code: number): boolean {
  const { timestamp, blob, date, time, tuple, udt, list, set, map } = types.dataTypes;
  return [timestamp, blob, date, time, tuple, udt, list, set, map].includes(code);
}

/** What the digest needs of a table's schema, from the driver's metadata. */
interface ColumnsMeta {
  columns: Array<{ name: string; type: { code: number; info?: unknown } }>;
  partitionKeys: Array<{ name: string }>;
  clusteringKeys: Array<{ name: string }>;
}

async function columnsMeta(client: Client, table: Pick<TableSchema, 'keyspace' | 'table'>): Promise<ColumnsMeta | null> {
  try {
    return await client.metadata.getTable(table.keyspace, table.table) as unknown as ColumnsMeta | null;
  } catch (error) {
    throw cqlError(error, `reading the schema of ${table.keyspace}.${table.table}`);
  }
}

/**
 * A client that decodes maps as plain objects (the driver's default; never the clients of
 * cql-client.ts, which decode them as `Map`) cannot digest a map keyed by a timestamp, blob, date,
 * time, tuple, user type or frozen collection exactly: refuse rather than give a digest that differs by machine
 * (PermanentError CASSANDRA_DIGEST_NEEDS_MAP_DECODING).
 */
async function refuseLossyMapKeys(client: Client, table: Pick<TableSchema, 'keyspace' | 'table'>): Promise<void> {
  // The options a client was made with: in the driver, not in its typings.
  if ((client as unknown as { options?: { encoding?: { map?: unknown } } }).options?.encoding?.map) return;
  const meta = await columnsMeta(client, table);
  const lossy = (meta?.columns ?? []).filter((column) => column.type.code === types.dataTypes.map
    && lossyKeyType((column.type.info as Array<{ code: number }>)[0].code));
  if (lossy.length > 0) {
    throw new PermanentError(
      `${table.keyspace}.${table.table}: the map columns ${lossy.map((c) => c.name).join(', ')} need a client that decodes maps as Map (encoding: { map: Map }) to be digested exactly`,
      { code: 'CASSANDRA_DIGEST_NEEDS_MAP_DECODING', engine: 'cassandra' },
    );
  }
}

export interface DigestOptions {
  /** Default ALL (see the file's header). */
  consistency?: number;
  signal?: AbortSignal;
  /**
   * Also read the TTL of each cell that can carry one (regular and static columns, not
   * collections or counters) and say whether any has one ({@link SpanDigest.expiring}): such rows
   * may be gone by the time a restore reads them again. The digest is the same either way.
   */
  findExpiring?: boolean;
  /** Digest maps as the driver's plain objects named their keys (a digest taken before maps were decoded as `Map`: records.ts `mapKeys`). */
  mapsAsObjects?: boolean;
  /** How decimals are written (default `exact`; `driver` for a digest taken before: records.ts `decimals`). */
  decimals?: DecimalForm;
}

/** The columns whose cells' TTL a read can ask for: not keys, collections or counters (a frozen collection left out too). */
function ttlColumns(meta: ColumnsMeta): string[] {
  const keys = new Set([...meta.partitionKeys, ...meta.clusteringKeys].map((column) => column.name));
  const { list, set, map, counter } = types.dataTypes;
  return meta.columns.filter((column) => !keys.has(column.name) && ![list, set, map, counter].includes(column.type.code)).map((column) => column.name);
}

/**
 * The select list of a digest read: `*`, or with `ttlOf` every column by name and the TTL of each
 * of `ttlOf` under an alias no column has (`SELECT *` takes no other selector).
 */
function selection(meta: ColumnsMeta | null, ttlOf: readonly string[]): { list: string; aliases: string[] } {
  if (!meta || ttlOf.length === 0) return { list: '*', aliases: [] };
  let prefix = 'dbbackup ttl ';
  while (meta.columns.some((column) => column.name.startsWith(prefix))) prefix = `_${prefix}`;
  const aliases = ttlOf.map((_, i) => `${prefix}${i}`);
  return {
    list: [...meta.columns.map((column) => quoteIdentifier(column.name)), ...ttlOf.map((column, i) => `TTL(${quoteIdentifier(column)}) AS ${quoteIdentifier(aliases[i])}`)].join(', '),
    aliases,
  };
}

/**
 * Per span, the number of rows of `table` whose partition token lies in it and the sha256 of their
 * canonical frames in the order the server returns them (token order, then clustering order). Reads
 * `SELECT * … WHERE token(pk…) > start AND token(pk…) <= end`, paged ({@link FETCH_SIZE} rows) with
 * back pressure, so memory stays flat; a span whose start ≥ end wraps the ring and is read as
 * (start, 2^63-1] then (-2^63, end].
 * @example await digestSpans(client, table, spansEndingAt(nodeTokens))
 */
export async function digestSpans(
  client: Client,
  table: Pick<TableSchema, 'keyspace' | 'table' | 'partitionKeys'>,
  spans: readonly TokenSpan[],
  options: DigestOptions = {},
): Promise<SpanDigest[]> {
  if (table.partitionKeys.length === 0) throw new PermanentError(`${table.keyspace}.${table.table} has no partition key`, { code: 'CASSANDRA_BAD_SCHEMA', engine: 'cassandra' });
  await refuseLossyMapKeys(client, table);
  const meta = options.findExpiring ? await columnsMeta(client, table) : null;
  const { list, aliases } = selection(meta, meta ? ttlColumns(meta) : []);
  const tokenOf = `token(${table.partitionKeys.map(quoteIdentifier).join(', ')})`;
  const query = `SELECT ${list} FROM ${qualifiedName(table.keyspace, table.table)} WHERE ${tokenOf} > ? AND ${tokenOf} <= ?`;
  const consistency = options.consistency ?? types.consistencies.all;
  const results: SpanDigest[] = [];
  for (const span of spans) {
    const hash = createHash('sha256');
    let rows = 0;
    let expiring = false;
    for (const [lo, hi] of pieces(span)) {
      options.signal?.throwIfAborted();
      const params = [types.Long.fromString(String(lo)), types.Long.fromString(String(hi))];
      // A ResultStream: a Readable of rows that fetches the next page as it is read (typed as a bare EventEmitter).
      const stream = client.stream(query, params, { prepare: true, fetchSize: FETCH_SIZE, autoPage: true, consistency }) as unknown as Readable;
      const abort = () => stream.destroy(options.signal?.reason);
      options.signal?.addEventListener('abort', abort, { once: true });
      try {
        for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
          if (aliases.length > 0 || options.mapsAsObjects) {
            const cells: Record<string, unknown> = { ...row };
            for (const alias of aliases) {
              if (cells[alias] !== null && cells[alias] !== undefined) expiring = true;
              delete cells[alias];
            }
            if (options.mapsAsObjects) for (const column of Object.keys(cells)) cells[column] = withMapsAsObjects(cells[column]);
            hash.update(canonicalRowFrame(cells, options.decimals));
          } else {
            hash.update(canonicalRowFrame(row, options.decimals));
          }
          rows += 1;
        }
      } catch (error) {
        options.signal?.throwIfAborted();
        throw cqlError(error, `reading ${table.keyspace}.${table.table} in (${lo}, ${hi}]`);
      } finally {
        options.signal?.removeEventListener('abort', abort);
      }
    }
    results.push({ start: span.start, end: span.end, rows, sha256: hash.digest('hex'), ...(expiring ? { expiring: true as const } : {}) });
  }
  return results;
}
