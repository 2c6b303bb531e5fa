/**
 * A Schemaless shard's incremental watermark, exact although `added_id`s commit out of order.
 *
 * `added_id` is an AUTO_INCREMENT: a transaction takes its id when it inserts and commits when it
 * ends, so at a backup's read view the highest id seen, W, may have ids below it that are not
 * visible yet — taken by a transaction still running, which will commit them below W — besides
 * ids that never will be (rolled back, a failed INSERT IGNORE, ids a bulk insert reserved and did
 * not use). An incremental that takes only `added_id > W` loses the first kind for good.
 *
 * So every backup records per shard, beside W, the ids at or below W it did not see (`gaps`, as
 * ranges) that a running transaction may still commit, and the transactions that were running
 * when its read view opened (`openTransactions`, each as `thread@start`). The next backup takes the cells
 * above W *and* the cells that have appeared inside the gaps since. Whether a gap can still fill
 * is asked before the next read view opens: when none of the recorded transactions runs any more,
 * each committed (its cells are visible to that read view) or rolled back, so what is still
 * missing then never comes: the gap is dropped. Otherwise it is carried forward.
 *
 * A full backup has no previous record: ids at or below a floor are known final when every
 * transaction running when the floor was read (the highest committed id then) has ended before the
 * read view opens; its gaps start above that floor (or at 0 when a transaction outlived it).
 *
 * Ids are BIGINT: bigint here, decimal strings in records.
 */
import { z } from 'zod';

/** Ids from `first` to `last`, both included. */
export type IdRange = readonly [first: bigint, last: bigint];

const decimalId = z.string().regex(/^\d{1,20}$/);

/** What a backup records for one shard's cells. */
export const shardWatermarkSchema = z.strictObject({
  /** The highest `added_id` the backup saw (0 for an empty shard). */
  maxAddedId: decimalId,
  /** Ids at or below `maxAddedId` the backup did not see and a running transaction may still commit, ascending. */
  gaps: z.array(z.tuple([decimalId, decimalId])),
  /** InnoDB transactions running when the read view opened (`thread@start`): the gaps can fill until all have ended. */
  openTransactions: z.array(z.string()),
});
export type ShardWatermark = z.infer<typeof shardWatermarkSchema>;

/**
 * The ids missing from an ascending stream of ids in (`after`, the last id seen]: fed the ids of
 * the cells a backup reads above its floor, in order.
 */
export class GapFinder {
  private last: bigint;
  private readonly found: IdRange[] = [];

  constructor(private readonly after: bigint) {
    this.last = after;
  }

  /** The next id, greater than every id before. */
  see(id: bigint): void {
    if (id <= this.last) throw new Error(`ids out of order: ${id} after ${this.last}`);
    if (id > this.last + 1n) this.found.push([this.last + 1n, id - 1n]);
    this.last = id;
  }

  /** The highest id seen (the floor when none was). */
  get max(): bigint {
    return this.last;
  }

  /** The missing ranges so far, ascending. */
  gaps(): IdRange[] {
    return [...this.found];
  }

  /** True when no id above the floor was seen. */
  get empty(): boolean {
    return this.last === this.after;
  }
}

/** `ranges` without the ids of `found` (ascending ranges, any order of ids). */
export function withoutIds(ranges: readonly IdRange[], found: Iterable<bigint>): IdRange[] {
  const taken = [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const result: IdRange[] = [];
  let t = 0;
  for (const [first, last] of ranges) {
    let from = first;
    while (t < taken.length && taken[t] < first) t += 1;
    while (t < taken.length && taken[t] <= last) {
      if (taken[t] > from) result.push([from, taken[t] - 1n]);
      from = taken[t] + 1n;
      t += 1;
    }
    if (from <= last) result.push([from, last]);
  }
  return result;
}

/** True when none of `recorded` is among the transactions running now. */
export function allEnded(recorded: readonly string[], running: ReadonlySet<string>): boolean {
  return recorded.every((trx) => !running.has(trx));
}

/** The record of a shard after a backup. */
export function nextWatermark(options: {
  /** The previous record's gaps not filled by this backup (empty for a full backup). */
  carried: readonly IdRange[];
  /** Whether the previous record's transactions had all ended before this read view opened. */
  carriedFinal: boolean;
  /** The gaps among the ids this backup read above the previous maximum (or the floor). */
  fresh: GapFinder;
  openTransactions: readonly string[];
}): ShardWatermark {
  const gaps = [...(options.carriedFinal ? [] : options.carried), ...options.fresh.gaps()];
  return {
    maxAddedId: options.fresh.max.toString(),
    gaps: gaps.map(([first, last]) => [first.toString(), last.toString()]),
    openTransactions: [...options.openTransactions],
  };
}

/** A record's gaps as ranges. */
export function gapRanges(watermark: ShardWatermark): IdRange[] {
  return watermark.gaps.map(([first, last]) => [BigInt(first), BigInt(last)]);
}

/** The SQL condition selecting the cells an incremental takes after `previous`: above its maximum, and inside its gaps. */
export function cellsAfter(previous: ShardWatermark): string {
  const ranges = gapRanges(previous).map(([first, last]) => `added_id BETWEEN ${first} AND ${last}`);
  return [`added_id > ${BigInt(previous.maxAddedId)}`, ...ranges].join(' OR ');
}
