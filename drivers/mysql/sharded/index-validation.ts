/**
 * `index-integrity` of a restore of a sharded store (Schemaless cells, Docstore documents): every
 * index entry points to a row with that key and every row has each index's entries, on every
 * shard. An index the restore checked whole as loaded (restored-indexes.ts: every shard passed,
 * nothing was repaired or built, nothing changed since) is proven by that check — the same one, on
 * the same rows: reading every row of the store a second time would prove nothing more. Every
 * other index (repaired on some shard, or built) is checked now over all shards.
 */
import type { ValidationCheck } from '../../../core/driver/types';
import { checkOf } from '../../../core/driver/validation-check';
import { checkDerivedIndexes, type DerivedIndex, type ShardIndexCheck } from './derived-index';
import type { IndexRecord } from './restored-indexes';
import type { LaneOptions } from './shard-lanes';
import type { ShardMap } from './target-shards';

/** An index as the validation finds it. */
interface ValidatedIndex {
  index: string;
  entries: number;
  /** The shards whose entries are not what the rows call for. */
  failing: ShardIndexCheck[];
  /** The restore's check as loaded (nothing changed since), or this validation's (the restore repaired or built it). */
  checkedBy: 'restore' | 'validation';
}

/** Every index of `indexes` on `target`, given what the restore recorded of each (`recorded`: its result's records). */
async function validateIndexes(target: ShardMap, indexes: readonly DerivedIndex[], recorded: Readonly<Record<string, IndexRecord>> | undefined, lanes: LaneOptions): Promise<ValidatedIndex[]> {
  const unproven = indexes.filter((index) => recorded?.[index.table]?.checkedWhole !== true);
  const checks = unproven.length > 0 ? await checkDerivedIndexes(target, unproven, lanes) : [];
  return indexes.map((index) => {
    const check = checks.find((c) => c.index === index.table);
    if (!check) return { index: index.table, entries: recorded![index.table].entries, failing: [], checkedBy: 'restore' };
    return { index: index.table, entries: check.shards.reduce((n, s) => n + s.entries, 0), failing: check.shards.filter((s) => !s.ok), checkedBy: 'validation' };
  });
}

/** How a store names its shards and rows in messages: `shard`/`cell`, `partition`/`document`. */
export interface StoreWords {
  shard: string;
  row: string;
}

/**
 * The `index-integrity` check of every index of `indexes` on `target`, with what the restore
 * `recorded` of each (its result's records: restored-indexes.ts `indexRecords`).
 */
export async function indexIntegrity(
  target: ShardMap, indexes: readonly DerivedIndex[], recorded: Readonly<Record<string, IndexRecord>> | undefined, lanes: LaneOptions, words: StoreWords,
): Promise<ValidationCheck> {
  const validated = await validateIndexes(target, indexes, recorded, lanes);
  const problems = validated.flatMap((v) => v.failing.map((s) => `${v.index} on ${words.shard} ${s.shard}: ${s.entries} entries, the ${words.row}s call for ${s.expected} (or different ones)`));
  const records = Object.values(recorded ?? {});
  const entries = validated.reduce((n, v) => n + v.entries, 0);
  const byRestore = validated.filter((v) => v.checkedBy === 'restore').map((v) => v.index);
  const byValidation = validated.filter((v) => v.checkedBy === 'validation').map((v) => v.index);
  const how = [
    byRestore.length > 0 ? `${byRestore.join(', ')} checked whole by the restore as loaded (nothing to repair)` : '',
    byValidation.length > 0 ? `${byValidation.join(', ')} checked after the restore repaired or built them: ${records.reduce((n, r) => n + r.dangling, 0)} dangling entries removed, ${records.reduce((n, r) => n + r.missing, 0)} missing added` : '',
  ].filter(Boolean).join('; ');
  return checkOf('index-integrity', problems, `${validated.length} indexes, ${entries} entries: every entry resolves to its ${words.row}, every ${words.row} has its entries (${how})`);
}
