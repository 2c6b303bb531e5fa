import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { digestChunk } from '../../../drivers/mysql/logical/chunk-digest';
import { encodeRow, type RawRow } from '../../../drivers/mysql/shared/row-format';
import { TableDigest } from '../../../drivers/mysql/shared/table-digest';

const MiB = 1024 * 1024;

describe('digestChunk', () => {
  /** `bytes` as a stream of 64 KiB pieces, as a file or the store hands them over. */
  const pieces = (bytes: Buffer): Readable => Readable.from(Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, i) => bytes.subarray(i * 65_536, (i + 1) * 65_536)));
  const rows: RawRow[] = [
    [Buffer.from('1'), null],
    [Buffer.from('2'), Buffer.from(Array.from({ length: 3 * MiB }, (_, i) => (i * 31) & 0xff))], // a line of many pieces, escapes included
    [Buffer.from('3'), Buffer.from('a\tb\n')],
  ];

  it('digests the rows of a chunk whose lines span many pieces and gzip members', async () => {
    // Prepare
    const chunk = Buffer.concat([gzipSync(encodeRow(rows[0])), gzipSync(Buffer.concat([encodeRow(rows[1]), encodeRow(rows[2])]))]);
    const expected = new TableDigest();
    rows.forEach((row) => expected.add(row));

    // Act
    const digest = await digestChunk(pieces(chunk), 'chunk');

    // Assess
    expect([digest.rows, digest.hex()]).toEqual([3, expected.hex()]);
  });

  it('refuses a chunk that ends inside a row', async () => {
    // Prepare
    const lines = Buffer.concat(rows.map(encodeRow));
    const chunk = gzipSync(lines.subarray(0, lines.length - 1));

    // Act / Assess
    await expect(digestChunk(pieces(chunk), 'cut')).rejects.toThrow('cut ends inside a row (8 bytes after the last line)');
  });
});
