/**
 * A written chunk read back into the digest of its rows: how a logical backup's validation
 * recomputes every table's rows and digest from what was stored (logical-backup.ts).
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { decodeLine } from '../shared/row-format';
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
