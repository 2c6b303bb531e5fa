import { encodePackets, encodeRow, type RawRow } from '../../../drivers/mysql/shared/row-format';
import { assertRowPacket, packRow, readLength, unpackRow } from '../../../drivers/mysql/shared/row-packet';
import { TableDigest } from '../../../drivers/mysql/shared/table-digest';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
/** Rows compared as bytes (jest's deep equality walks big Buffers byte by byte). */
const same = (left: RawRow, right: RawRow): boolean =>
  left.length === right.length && left.every((v, i) => (v === null ? right[i] === null : right[i] !== null && v.equals(right[i]!)));

const rows: Array<[string, RawRow]> = [
  ['plain values', [b('1'), b('Ada Lovelace'), b('10.50')]],
  ['NULL, an empty string and the text \\N', [null, b(''), b('\\N')]],
  ['bytes that need escaping', [b('a\tb'), b('line1\nline2\r\n'), b('C:\\dir\\'), Buffer.from([0, 1, 0])]],
  ['every byte value', [Buffer.from(Array.from({ length: 256 }, (_, i) => i))]],
  ['a 250-byte value (longest one-byte length)', [Buffer.alloc(250, 0x61)]],
  ['a 251-byte value (two-byte length)', [Buffer.alloc(251, 0x62), null]],
  ['a 70 000-byte value (three-byte length)', [b('k'), Buffer.alloc(70_000, 0x5c)]],
  ['a 17 MB value (eight-byte length)', [Buffer.alloc(17_000_000, 0x63)]],
  ['a single NULL column', [null]],
  ['a short key and many NULLs (three line bytes per packet byte)', [b('1'), null, null, null, null, null]],
];

describe('row packets', () => {
  it.each(rows)('packs and unpacks %s byte for byte', (_label, row) => {
    // Act
    const packet = packRow(row);

    // Assess
    expect(same(unpackRow(packet), row)).toBe(true);
  });

  it('uses the length encodings the server writes (1, 3, 4 and 9 bytes; 0xfb for NULL)', () => {
    // Act
    const lengths = [0, 250, 251, 65_535, 65_536, 16_777_216].map((n) => {
      const packet = packRow([Buffer.alloc(n)]);
      return [packet[0], readLength(packet, 0)] as const;
    });

    // Assess
    expect(lengths).toEqual([
      [0, [0, 1]], [250, [250, 1]], [0xfc, [251, 3]], [0xfc, [65_535, 3]], [0xfd, [65_536, 4]], [0xfe, [16_777_216, 9]],
    ]);
    expect(packRow([null])).toEqual(Buffer.from([0xfb]));
  });

  it('encodes a batch of packets as their lines one after the other, long values included', () => {
    // Prepare
    const all = rows.map(([, row]) => row);

    // Act
    const batch = encodePackets(all.map(packRow));
    const middle = encodePackets(all.map(packRow), 5, 7);

    // Assess
    expect(batch.equals(Buffer.concat(all.map(encodeRow)))).toBe(true);
    expect(middle.toString('latin1')).toBe(`${'b'.repeat(251)}\t\\N\nk\t${'\\\\'.repeat(70_000)}\n`);
  });

  it('digests a packet exactly as the row it carries', () => {
    // Prepare
    const fromPackets = new TableDigest();
    const fromRows = new TableDigest();

    // Act
    for (const [, row] of rows) {
      fromPackets.addPacket(packRow(row));
      fromRows.add(row);
    }

    // Assess
    expect(fromPackets.hex()).toBe(fromRows.hex());
    expect(fromPackets.rows).toBe(rows.length);
  });

  it('refuses parsed rows with a clear error (a mysql2 that no longer hands over packets)', () => {
    expect(() => assertRowPacket([Buffer.from('1'), null])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CLIENT' }));
    expect(() => assertRowPacket(packRow([Buffer.from('1')]))).not.toThrow();
  });
});
