import { kernel } from '../../../drivers/mysql/shared/row-kernel';
import type { RawRow } from '../../../drivers/mysql/shared/row-format';
import { packRow } from '../../../drivers/mysql/shared/row-packet';
import { framePackets } from '../../harness/framed-packets';
import { decodeLine } from '../../../drivers/mysql/shared/row-format';

/** `rows` as a batch the encoder threads get: packets framed (framed-batch.ts), their lengths. */
function batchOf(rows: RawRow[]): { bytes: Uint8Array; lengths: Uint32Array; count: number } {
  const batch = framePackets(rows.map(packRow));
  return { bytes: batch.packets, lengths: batch.lengths, count: batch.count };
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

describe('long fields (scanned natively between their special bytes)', () => {
  // A deterministic generator: fields of every length around the native paths' thresholds, with
  // no special byte, a few, dense ones, only special bytes, and runs just under and over 16 bytes.
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  const SPECIAL = [0x09, 0x0a, 0x0d, 0x5c, 0x00];
  const field = (length: number, density: number): Buffer =>
    Buffer.from(Array.from({ length }, () => (next() % 1000 < density ? SPECIAL[next() % SPECIAL.length] : 0x20 + (next() % 200))));
  const rows: RawRow[] = [];
  for (const length of [47, 48, 49, 63, 64, 200, 1_000, 70_000]) {
    for (const density of [0, 5, 60, 400, 1000]) rows.push([Buffer.from(String(rows.length)), field(length, density), null, field(length >> 1, density)]);
  }
  rows.push([Buffer.from('runs'), Buffer.concat([Buffer.alloc(15, 0x41), Buffer.from('\t'), Buffer.alloc(16, 0x42), Buffer.from('\\'), Buffer.alloc(17, 0x43), Buffer.from('\n\0\r')])]);
  // Special bytes in the short fields between long ones (a batch's long fields are scanned front to back, once).
  rows.push([Buffer.from('\t\n\r\\\0'), field(100, 0), Buffer.from('\0\\'), field(100, 400), Buffer.from('\n'), field(48, 0), field(49, 1000)]);
  const batch = batchOf(rows);
  const { lines } = kernel.encodeBatch(batch.bytes, batch.lengths, batch.count);
  const mismatch = (changed: Uint8Array) => kernel.firstMismatch(changed, batch.bytes, batch.lengths, batch.count);
  /** Where row `row`'s line starts in `lines`. */
  const lineStart = (row: number) => {
    let at = 0;
    for (let r = 0; r < row; r += 1) at = Buffer.from(lines).indexOf(0x0a, at) + 1;
    return at;
  };

  it('encodes each row into the line an independent decoder reads back as that row', () => {
    const text = Buffer.from(lines);
    const decoded: RawRow[] = [];
    for (let at = 0; at < text.length;) {
      const end = text.indexOf(0x0a, at);
      decoded.push(decodeLine(text.subarray(at, end)));
      at = end + 1;
    }
    expect(decoded).toEqual(rows);
    expect(mismatch(lines)).toBe(-1);
  });

  it('names the row of a flipped byte inside a long run, an unescaped TAB, a wrong escape and a line cut short', () => {
    const row = 5; // 48 bytes, no special byte: one native comparison
    const flipped = Buffer.from(lines);
    flipped[lineStart(row) + 2 + 30] ^= 0x01;
    expect(mismatch(flipped)).toBe(row);

    const dense = rows.findIndex((r) => r[1]!.length === 200 && r[1]!.includes(0x09));
    const at = Buffer.from(lines).indexOf('\\t', lineStart(dense));
    const raw = Buffer.from(lines);
    raw[at] = 0x09; // the escape's backslash replaced by a TAB that ends the field
    expect(mismatch(raw)).toBe(dense);
    const wrongLetter = Buffer.from(lines);
    wrongLetter[at + 1] = 0x6e; // \t read back as \n
    expect(mismatch(wrongLetter)).toBe(dense);

    const last = rows.length - 1;
    expect(mismatch(lines.subarray(0, lineStart(last) + 20))).toBe(last);
  });

  it('accepts a carriage return or NUL written unescaped: LOAD DATA reads it as itself', () => {
    const runs = rows.length - 1;
    const text = Buffer.from(lines).toString('latin1');
    const start = lineStart(runs);
    const unescaped = text.slice(0, start) + text.slice(start).replace('\\0\\r', '\0\r');
    expect(mismatch(Buffer.from(unescaped, 'latin1'))).toBe(-1);
  });
});
