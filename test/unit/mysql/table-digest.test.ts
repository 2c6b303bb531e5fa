import { TableDigest, murmur3x86x128 } from '../../../drivers/mysql/shared/table-digest';
import type { RawRow } from '../../../drivers/mysql/shared/row-format';
import { packRow } from '../../../drivers/mysql/shared/row-packet';
import { framePackets } from '../../harness/framed-packets';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const digestOf = (rows: RawRow[]): TableDigest => {
  const digest = new TableDigest();
  for (const row of rows) digest.add(row);
  return digest;
};
const rows: RawRow[] = Array.from({ length: 50 }, (_, i) => [b(String(i)), i % 7 === 0 ? null : b(`name ${i}`), Buffer.from([i, 0, 255])]);

describe('TableDigest', () => {
  it('is 32 hex characters, all zero for no rows, and counts rows', () => {
    // Act
    const empty = new TableDigest();
    const some = digestOf(rows);

    // Assess
    expect(empty.hex()).toBe('0'.repeat(32));
    expect(empty.rows).toBe(0);
    expect(some.hex()).toMatch(/^[0-9a-f]{32}$/);
    expect(some.rows).toBe(50);
  });

  it('does not depend on row order', () => {
    // Act
    const forward = digestOf(rows);
    const backward = digestOf([...rows].reverse());

    // Assess
    expect(backward.hex()).toBe(forward.hex());
  });

  it('merging per-chunk digests equals adding every row to one digest', () => {
    // Prepare
    const whole = digestOf(rows);
    const merged = new TableDigest();

    // Act
    for (let from = 0; from < rows.length; from += 16) merged.merge(digestOf(rows.slice(from, from + 16)));

    // Assess
    expect(merged.hex()).toBe(whole.hex());
    expect(merged.rows).toBe(whole.rows);
  });

  it('adding a batch of rows (as a table read back arrives) equals adding each of its rows', () => {
    // Prepare
    const whole = digestOf(rows);
    const batched = new TableDigest();

    // Act
    batched.addBatch(framePackets(rows.slice(0, 20).map(packRow)));
    batched.addBatch(framePackets(rows.slice(20).map(packRow)));

    // Assess
    expect(batched.hex()).toBe(whole.hex());
    expect(batched.rows).toBe(50);
  });

  it('keeps duplicate rows from cancelling out (tables without a primary key)', () => {
    // Prepare
    const row: RawRow = [b('1'), b('dup')];

    // Act
    const once = digestOf([row]);
    const twice = digestOf([row, row]);

    // Assess
    expect(twice.hex()).not.toBe('0'.repeat(32));
    expect(twice.hex()).not.toBe(once.hex());
  });

  it.each<[string, RawRow, RawRow]>([
    ['NULL from an empty string', [null], [b('')]],
    ['NULL from the text \\N', [null], [b('\\N')]],
    ['field boundaries (ab|c vs a|bc)', [b('ab'), b('c')], [b('a'), b('bc')]],
    ['one changed byte', [b('value')], [b('valuf')]],
    ['an extra empty column', [b('x')], [b('x'), b('')]],
  ])('tells %s apart', (_label, left, right) => {
    expect(digestOf([left]).hex()).not.toBe(digestOf([right]).hex());
  });

  it('handles rows larger than its initial scratch buffer', () => {
    // Prepare
    const big: RawRow = [Buffer.alloc(70_000, 0x5c), b('tail')];

    // Act
    const first = digestOf([big]).hex();
    const again = digestOf([[Buffer.alloc(70_000, 0x5c), b('tail')]]).hex();

    // Assess
    expect(first).toBe(again);
    expect(first).not.toBe(digestOf([[Buffer.alloc(70_000, 0x5c), b('tails')]]).hex());
  });
});

describe('murmur3x86x128', () => {
  it('hashes the empty input with seed 0 to zero, and depends on seed, length and every byte', () => {
    // Prepare
    const out = new Uint32Array(4);
    const hash = (data: Buffer, seed = 0): string => {
      murmur3x86x128(data, data.length, seed, out);
      return Array.from(out, (w) => w.toString(16).padStart(8, '0')).join('');
    };
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');

    // Act
    const empty = hash(Buffer.alloc(0));
    const base = hash(data);

    // Assess
    expect(empty).toBe('0'.repeat(32));
    expect(hash(data, 1)).not.toBe(base);
    expect(hash(data.subarray(0, data.length - 1))).not.toBe(base);
    for (const at of [0, 15, 16, 31, 32, data.length - 1]) {
      const changed = Buffer.from(data);
      changed[at] ^= 1;
      expect(hash(changed)).not.toBe(base);
    }
  });

  it('reads only the first `length` bytes of its buffer', () => {
    // Prepare
    const out = new Uint32Array(4);
    const scratch = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');

    // Act
    murmur3x86x128(scratch, 20, 7, out);
    const fromScratch = Array.from(out);
    murmur3x86x128(scratch.subarray(0, 20), 20, 7, out);

    // Assess
    expect(Array.from(out)).toEqual(fromScratch);
  });
});
