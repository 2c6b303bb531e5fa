/**
 * A written chunk read back into the digest of its rows: how a logical backup's validation
 * recomputes every table's rows and digest from what was stored (logical-backup.ts).
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { mapLimited } from '../../../core/concurrency';
import type { ArtifactReader } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { decodeLine } from '../shared/row-format';
import type { TableFacts } from '../shared/layout';
import { TableDigest } from '../shared/table-digest';

/**
 * Reads a chunk back (gunzip, split lines, {@link decodeLine}) into the digest of its rows.
 * @throws when the chunk is unreadable, not gzip, corrupt, or does not end with a complete line.
 */
export async function digestChunk(input: Readable, name: string): Promise<TableDigest> {
  const digest = new TableDigest();
  let partial: Buffer[] = []; // the pieces of a line not yet ended (a wide row spans many)
  const gunzip = input.pipe(createGunzip({ chunkSize: 256 * 1024 }));
  input.on('error', (error) => gunzip.destroy(error));
  for await (const piece of gunzip as AsyncIterable<Buffer>) {
    let start = 0;
    for (let lf = piece.indexOf(0x0a); lf !== -1; lf = piece.indexOf(0x0a, start)) {
      const end = piece.subarray(start, lf);
      digest.add(decodeLine(partial.length > 0 ? Buffer.concat([...partial, end]) : end));
      partial = [];
      start = lf + 1;
    }
    if (start < piece.length) partial.push(piece.subarray(start));
  }
  if (partial.length > 0) throw new Error(`${name} ends inside a row (${partial.reduce((n, p) => n + p.length, 0)} bytes after the last line)`);
  return digest;
}

/** What {@link checkTableChunks} found: a line per table whose chunks disagree with its facts. */
export interface ChunkCheck {
  wrongRows: string[];
  wrongDigests: string[];
}

/**
 * Reads every chunk of `tables` back through `reader` (which checks each one's sha256 on the way),
 * `parallelism` at a time, and compares each table's rows and digest with what was recorded. A
 * chunk that is missing or unreadable is a problem of its table, never a throw.
 */
export async function checkTableChunks(tables: readonly TableFacts[], artifacts: readonly ArtifactRef[], reader: ArtifactReader, parallelism: number): Promise<ChunkCheck> {
  const byName = new Map(artifacts.map((a) => [a.name, a]));
  const unreadable = new Map<TableFacts, string>();
  const digests = new Map<TableFacts, TableDigest>(tables.map((t) => [t, new TableDigest()]));
  const jobs = tables.flatMap((t) => t.chunks.filter((c) => byName.has(c)).map((chunk) => ({ t, chunk })));
  await mapLimited(jobs, parallelism, async ({ t, chunk }) => {
    if (unreadable.has(t)) return;
    try {
      digests.get(t)!.merge(await digestChunk(await reader.open(byName.get(chunk)!), chunk));
    } catch (error) {
      unreadable.set(t, `${chunk}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  const found: ChunkCheck = { wrongRows: [], wrongDigests: [] };
  for (const t of tables) {
    const name = `${t.database}.${t.table}`;
    const missing = t.chunks.filter((c) => !byName.has(c));
    const problem = unreadable.get(t) ?? (missing.length > 0 ? `${missing[0]} is not in the snapshot` : undefined);
    if (problem) {
      found.wrongRows.push(`${name}: unreadable chunk ${problem}`);
      found.wrongDigests.push(`${name}: unreadable chunk ${problem}`);
      continue;
    }
    const digest = digests.get(t)!;
    if (digest.rows !== t.rows) found.wrongRows.push(`${name}: ${digest.rows} rows in the chunks, ${t.rows} recorded`);
    if (digest.hex() !== t.digest) found.wrongDigests.push(`${name}: digest ${digest.hex()} of the chunks, ${t.digest} recorded`);
  }
  return found;
}
