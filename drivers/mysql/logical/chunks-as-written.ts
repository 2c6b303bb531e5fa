/**
 * A logical backup's rows proven without decoding them again. Each batch was read back as it was
 * written — its frame inflated and every line compared with the row packet the server sent
 * (encode-pool.ts, row-kernel.ts `firstMismatch`) — and the table's rows and digest recorded from
 * those packets; what remains to prove is that the stored chunks are the bytes written: their
 * sha256, hashed where they lie (spool files on hashing threads, store objects as the store can),
 * or, on a store that verified them on receipt (S3's CRC32), the checksum their heads report.
 */
import type { ArtifactReader } from '../../../core/driver/artifact-sink';
import type { ArtifactRef, ValidationCheck } from '../../../core/driver/types';
import { checkOf } from '../../../core/driver/validation-check';
import { chunkSuffix, readBackWhenWritten } from '../shared/chunk-codec';
import type { TableFacts } from '../shared/layout';

/**
 * One line per table of `tables` whose rows are not proven: a chunk missing from `artifacts`,
 * damaged (its bytes are not those written), or written before batches were read back as they
 * were written (gzip chunks: a new backup proves them). Empty when every table's are.
 * {@link snapshotReadBack} keeps a resumed backup from reaching this with such chunks.
 */
export async function unprovenTables(tables: readonly TableFacts[], artifacts: readonly ArtifactRef[], reader: ArtifactReader): Promise<string[]> {
  const byName = new Map(artifacts.map((a) => [a.name, a]));
  const damaged = await reader.damaged(tables.flatMap((t) => t.chunks).filter((name) => byName.has(name)).map((name) => byName.get(name)!));
  const problems: string[] = [];
  for (const t of tables) {
    const name = `${t.database}.${t.table}`;
    const missing = t.chunks.find((c) => !byName.has(c));
    const broken = t.chunks.find((c) => damaged.has(c));
    const unread = t.chunks.find((c) => !readBackWhenWritten(c));
    if (missing) problems.push(`${name}: ${missing} is not in the snapshot`);
    else if (broken) problems.push(`${name}: ${broken}: ${damaged.get(broken)}`);
    else if (unread) problems.push(`${name}: ${unread} was written before chunks were read back as they were written; take a new backup`);
  }
  return problems;
}

/** Check `rows-read-back`: every table's rows proven by {@link unprovenTables}. */
export async function rowsReadBack(tables: readonly TableFacts[], artifacts: readonly ArtifactRef[], reader: ArtifactReader): Promise<ValidationCheck> {
  const rows = tables.reduce((sum, t) => sum + t.rows, 0);
  return checkOf('rows-read-back', await unprovenTables(tables, artifacts, reader),
    `${rows} rows in ${tables.length} tables, each read back from its compressed chunk as the server sent it, as it was written; the chunks stored as written`);
}

/**
 * Whether every chunk of a completed snapshot was read back as it was written, so its validation
 * can prove it ({@link unprovenTables}); a snapshot left by a version that did not (gzip chunks)
 * is not worth resuming: a new dump is.
 */
export function snapshotReadBack(artifacts: readonly ArtifactRef[]): boolean {
  return !artifacts.some((a) => a.name.endsWith(chunkSuffix('gzip')));
}

/** A resume verdict's refusal for a completed snapshot {@link snapshotReadBack} refuses; undefined when it is resumable. */
export function notReadBackVerdict(snapshot: { artifacts: readonly ArtifactRef[] }): { resumable: false; reason: string } | undefined {
  return snapshotReadBack(snapshot.artifacts)
    ? undefined
    : { resumable: false, reason: 'its chunks were written by a version that did not read each batch back as it wrote it (gzip), so its validation cannot prove them: a new snapshot is needed' };
}
