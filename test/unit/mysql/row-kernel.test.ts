import { kernel } from '../../../drivers/mysql/shared/row-kernel';
import type { RawRow } from '../../../drivers/mysql/shared/row-format';
import { packRow } from '../../../drivers/mysql/shared/row-packet';

/** `rows` as a batch the encoder threads get: packets back to back, their lengths. */
function batchOf(rows: RawRow[]): { bytes: Uint8Array; lengths: Uint32Array; count: number } {
  const packets = rows.map(packRow);
  return { bytes: Buffer.concat(packets), lengths: Uint32Array.from(packets.map((p) => p.length)), count: packets.length };
}

describe('firstMismatch (a batch read back as LOAD DATA reads its lines)', () => {
  const rows: RawRow[] = [
    [Buffer.from('1'), null, Buffer.alloc(0), Buffer.from('a\tb\nc\rd\\e\0f')],
    [Buffer.from('2'), Buffer.from('N'), Buffer.from('\\N'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff))], // a 3-byte length
    [Buffer.from('3'), Buffer.from('ünïcödé ☃'), null, null],
  ];
  const batch = batchOf(rows);
  const { lines } = kernel.encodeBatch(batch.bytes, batch.lengths, batch.count);
  const mismatch = (changed: Uint8Array) => kernel.firstMismatch(changed, batch.bytes, batch.lengths, batch.count);
  const edited = (edit: (text: string) => string) => Buffer.from(edit(Buffer.from(lines).toString('latin1')), 'latin1');

  it('finds every row of the lines it encoded exactly as the server sent it', () => {
    expect(mismatch(lines)).toBe(-1);
  });

  it('names the first row that reads back otherwise: a flipped byte, a value read as NULL, a field ended early', () => {
    const flipped = Buffer.from(lines);
    flipped[lines.length - 5] ^= 0x01;
    expect(mismatch(flipped)).toBe(2);
    expect(mismatch(edited((t) => t.replace('2\tN\t', '2\t\\N\t')))).toBe(1); // 'N' written as NULL
    expect(mismatch(edited((t) => t.replace('1\t\\N\t\t', '1\t\t\t')))).toBe(0); // NULL written as ''
    expect(mismatch(edited((t) => t.replace('a\\tb', 'a\tb')))).toBe(0); // an unescaped TAB ends the field
    expect(mismatch(edited((t) => t.replace('\\\\N', '\\N')))).toBe(1); // the text \N written as NULL
  });

  it('refuses lines that stop short or run on', () => {
    expect(mismatch(lines.subarray(0, lines.length - 1))).toBe(2);
    expect(mismatch(Buffer.concat([lines, Buffer.from('4\n')]))).toBe(3);
  });
});
