import { LOAD_DATA_FORMAT, decodeLine, encodeRow, rawTypeCast, type RawRow } from '../../../drivers/mysql/shared/row-format';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
/** The line without its final LF. */
const body = (line: Buffer): Buffer => line.subarray(0, line.length - 1);

describe('encodeRow / decodeLine', () => {
  it.each<[string, RawRow]>([
    ['plain values', [b('1'), b('Ada Lovelace'), b('10.50')]],
    ['NULL, an empty string and the text \\N', [null, b(''), b('\\N')]],
    ['tabs, newlines, carriage returns, backslashes and NUL', [b('a\tb'), b('line1\nline2\r\n'), b('C:\\dir\\'), Buffer.from([0, 1, 0])]],
    ['every byte value', [Buffer.from(Array.from({ length: 256 }, (_, i) => i))]],
    ['utf8mb4 text', [b('李小龍 日本語テキスト 🚀'), b('Jürgen Groß')]],
    ['a single NULL column', [null]],
    ['a single empty column', [b('')]],
    ['a key and many NULLs (a NULL is one packet byte, three line bytes)', [b('1'), null, null, null, null, null]],
  ])('round-trips %s byte for byte', (_label, row) => {
    // Act
    const line = encodeRow(row);
    const decoded = decodeLine(body(line));

    // Assess
    expect(line[line.length - 1]).toBe(0x0a);
    expect(decoded).toEqual(row);
  });

  it('writes one LF-terminated line with TAB separators and no raw TAB, LF or CR inside values', () => {
    // Prepare
    const row: RawRow = [b('a\tb'), null, b('x\ny\rz'), b('\\')];

    // Act
    const line = encodeRow(row);

    // Assess
    expect(line.toString('latin1')).toBe('a\\tb\t\\N\tx\\ny\\rz\t\\\\\n');
    expect(body(line).includes(0x0a)).toBe(false);
    expect(body(line).includes(0x0d)).toBe(false);
  });

  it('reads the other escapes LOAD DATA knows (\\Z, \\b, \\0) and keeps a trailing lone backslash', () => {
    // Act
    const decoded = decodeLine(Buffer.from('\\Z\\b\\0\tend\\', 'latin1'));

    // Assess
    expect(decoded).toEqual([Buffer.from([0x1a, 0x08, 0x00]), b('end\\')]);
  });

  it('keeps a value without escapes as a view of the line (no copy)', () => {
    // Prepare
    const line = Buffer.from('abc\tdef', 'latin1');

    // Act
    const [first] = decodeLine(line);

    // Assess
    expect(first?.buffer).toBe(line.buffer);
  });
});

describe('rawTypeCast and LOAD_DATA_FORMAT', () => {
  it('returns the raw bytes of a field (null for NULL)', () => {
    // Prepare
    const bytes = b('42');

    // Act
    const value = rawTypeCast({ buffer: () => bytes });
    const nullValue = rawTypeCast({ buffer: () => null });

    // Assess
    expect(value).toBe(bytes);
    expect(nullValue).toBeNull();
  });

  it('names the exact format the dump writes', () => {
    expect(LOAD_DATA_FORMAT).toBe("CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'");
  });
});
