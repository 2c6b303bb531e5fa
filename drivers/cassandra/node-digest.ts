/**
 * The rows a node is the primary replica of, counted and digested per table: the token spans that
 * end at its tokens, read through CQL (table-digest.ts). Small tables are read whole; large ones
 * in a deterministic sample of each span, so the restore can read exactly the same spans, on any
 * topology, and compare.
 */
import { createHash } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { digestSpans, spansEndingAt, type DigestOptions, type TokenSpan } from './table-digest';
import type { TableSchema } from './schema-cql';
import type { TableDigest } from './records';

/** A sampled span is cut into this many equal parts … */
export const SAMPLE_PARTS = 64;
/** … of which this many are read. */
export const SAMPLE_TAKE = 4;

const RING = 2n ** 64n;
const MIN = -(2n ** 63n);

/** `t` as a signed 64-bit token. */
function wrap(t: bigint): bigint {
  return ((t - MIN) % RING + RING) % RING + MIN;
}

/** The spans of the ring (`ringTokens`: every node's) that end at one of `mine`. */
export function primarySpans(ringTokens: readonly string[], mine: readonly string[]): TokenSpan[] {
  const own = new Set(mine);
  return spansEndingAt(ringTokens).filter((span) => own.has(span.end));
}

/** `SAMPLE_TAKE` of `SAMPLE_PARTS` equal parts of each span, chosen by a hash of `seed` and the span. */
export function sampledSpans(spans: readonly TokenSpan[], seed: string): TokenSpan[] {
  return spans.flatMap((span) => {
    const start = BigInt(span.start);
    const length = wrap(BigInt(span.end) - start) - MIN || RING; // a lone token's span is the whole ring
    const cut = (i: bigint) => wrap(start + (length * i) / BigInt(SAMPLE_PARTS));
    const chosen = new Set<number>();
    for (let i = 0; chosen.size < SAMPLE_TAKE; i += 1) {
      chosen.add(createHash('sha256').update(`${seed}\0${span.start}\0${span.end}\0${i}`).digest().readUInt32BE(0) % SAMPLE_PARTS);
    }
    return [...chosen].sort((a, b) => a - b).map((i) => ({ start: String(cut(BigInt(i))), end: String(cut(BigInt(i + 1))) }));
  });
}

/** The spans `mode` reads of `table` on a node whose primary spans are `spans`. */
export function digestedSpans(spans: readonly TokenSpan[], table: Pick<TableSchema, 'keyspace' | 'table'>, mode: TableDigest['mode']): TokenSpan[] {
  return mode === 'full' ? [...spans] : sampledSpans(spans, `${table.keyspace}.${table.table}`);
}

/** Rows and one digest over `spans` of `table` (the spans' digests in order, read as `options` say); with `options.findExpiring`, whether a row read will expire. */
export async function digestTableSpans(
  client: Client, table: Pick<TableSchema, 'keyspace' | 'table' | 'partitionKeys'>, spans: readonly TokenSpan[], options: Pick<DigestOptions, 'findExpiring' | 'mapsAsObjects' | 'decimals' | 'signal'> = {},
): Promise<{ rows: number; sha256: string; expiring?: true }> {
  const parts = await digestSpans(client, table, spans, options);
  const hash = createHash('sha256');
  let rows = 0;
  for (const part of parts) {
    rows += part.rows;
    hash.update(`${part.start}:${part.end}:${part.rows}:${part.sha256}\n`);
  }
  return { rows, sha256: hash.digest('hex'), ...(parts.some((part) => part.expiring) ? { expiring: true as const } : {}) };
}
