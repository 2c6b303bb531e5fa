import { kernel } from '../../../drivers/mysql/shared/row-kernel';
import { batchKernel, batchKernelModule } from '../../../drivers/mysql/shared/batch-kernel/batch-kernel';
import type { RawRow } from '../../../drivers/mysql/shared/row-format';
import { packRow } from '../../../drivers/mysql/shared/row-packet';
import { framePackets } from '../../harness/framed-packets';
import { decodeLine } from '../../../drivers/mysql/shared/row-format';

interface Batch { bytes: Uint8Array; lengths: Uint32Array; count: number }

/** `rows` as a batch the encoder threads get: packets framed (framed-batch.ts), their lengths. */
function batchOf(rows: RawRow[]): Batch {
  return packetBatch(rows.map(packRow));
}

function packetBatch(packets: Buffer[]): Batch {
  const batch = framePackets(packets);
  return { bytes: batch.packets, lengths: batch.lengths, count: batch.count };
}

/** A batch kernel as the encoder threads use it: its lines (a copy) and digest sum, and a batch's lines read back. */
interface BatchKernel {
  name: string;
  /** @throws Error when a field runs past its packet's end */
  encode(batch: Batch): { lines: Buffer; sum: Uint32Array };
  firstMismatch(lines: Uint8Array, batch: Batch): number;
}

const wasm = batchKernel(batchKernelModule(), Number.MAX_SAFE_INTEGER);
const KERNELS: BatchKernel[] = [
  {
    name: 'JavaScript (row-kernel.ts, the reference)',
    encode(batch) {
      const { lines, digest } = kernel.encodeBatch(batch.bytes, batch.lengths, batch.count);
      return { lines: Buffer.from(lines), sum: digest.sum };
    },
    firstMismatch: (lines, batch) => kernel.firstMismatch(lines, batch.bytes, batch.lengths, batch.count),
  },
  {
    name: 'WebAssembly (batch-kernel, what the encoder threads run)',
    encode(batch) {
      const encoded = wasm.encode(batch.bytes, batch.lengths, batch.count);
      if (encoded === undefined) throw new Error('the batch does not fit the kernel\'s memory');
      if ('overrun' in encoded) throw new Error(`row ${encoded.overrun} runs past its packet's end`);
      return { lines: Buffer.from(encoded.lines), sum: encoded.sum };
    },
    firstMismatch(lines, batch) {
      wasm.encode(batch.bytes, batch.lengths, batch.count); // lays the batch out in its memory
      const back = wasm.backRoom(lines.length);
      back.set(lines);
      return wasm.firstMismatch(back);
    },
  },
];

describe.each(KERNELS)('$name', (batches) => {
  describe('firstMismatch (a batch read back as LOAD DATA reads its lines)', () => {
    const rows: RawRow[] = [
      [Buffer.from('1'), null, Buffer.alloc(0), Buffer.from('a\tb\nc\rd\\e\0f')],
      [Buffer.from('2'), Buffer.from('N'), Buffer.from('\\N'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff))], // a 3-byte length
      [Buffer.from('3'), Buffer.from('ünïcödé ☃'), null, null],
    ];
    const batch = batchOf(rows);
    const { lines } = batches.encode(batch);
    const mismatch = (changed: Uint8Array) => batches.firstMismatch(changed, batch);
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
    const { lines } = batches.encode(batch);
    const mismatch = (changed: Uint8Array) => batches.firstMismatch(changed, batch);
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
});

describe('the WebAssembly batch kernel and the JavaScript reference', () => {
  const [reference, fast] = KERNELS;
  // A deterministic generator of rows of every kind of field: NULLs, empty, short and long fields
  // (1-, 3- and 4-byte length prefixes), sparse and dense special bytes, runs around 16 bytes.
  let seed = 11;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  const SPECIAL = [0x09, 0x0a, 0x0d, 0x5c, 0x00, 0x4e, 0x1a];
  const LENGTHS = [0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 120, 250, 251, 300, 65_535, 65_536, 70_000];
  const field = (): Buffer | null => {
    if (next() % 10 === 0) return null;
    const length = LENGTHS[next() % LENGTHS.length];
    const density = [0, 0, 3, 50, 500, 1000][next() % 6];
    return Buffer.from(Array.from({ length }, () => (next() % 1000 < density ? SPECIAL[next() % SPECIAL.length] : next() & 0xff)));
  };
  const rows: RawRow[] = Array.from({ length: 400 }, () => Array.from({ length: 1 + (next() % 9) }, field));
  const packets = rows.map(packRow);
  // A length written in 9 bytes (0xfe), as a server may for any length.
  packets.push(Buffer.concat([Buffer.from([0xfe, 5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('a\tb\n'), Buffer.from([0xfb])]));
  const batch = packetBatch(packets);

  it('write the same lines and the same digest sum; digest the same alone', () => {
    const expected = reference.encode(batch);
    const actual = fast.encode(batch);
    expect(actual.lines.equals(expected.lines)).toBe(true);
    expect([...actual.sum]).toEqual([...expected.sum]);
    expect(fast.firstMismatch(actual.lines, batch)).toBe(-1);
    expect([...wasm.digest(batch.bytes, batch.lengths, batch.count)!]).toEqual([...expected.sum]);
  });

  it('find the same first row in lines changed anywhere: a byte flipped, made special, dropped or added', () => {
    // 60 of the rows and the 9-byte length (every kind of field still among them): each trial
    // copies the lines and reads them back twice, which over all 400 rows took two minutes.
    const few = packetBatch([...packets.slice(0, 60), packets[packets.length - 1]]);
    const { lines } = reference.encode(few);
    for (let trial = 0; trial < 400; trial += 1) {
      const at = next() % lines.length;
      const byte = [0x09, 0x0a, 0x5c, 0x4e, next() & 0xff][next() % 5];
      let changed: Buffer;
      switch (trial % 4) {
        case 0: changed = Buffer.from(lines); changed[at] ^= 1 << (next() % 8); break;
        case 1: changed = Buffer.from(lines); changed[at] = byte; break;
        case 2: changed = Buffer.concat([lines.subarray(0, at), lines.subarray(at + 1)]); break;
        default: changed = Buffer.concat([lines.subarray(0, at), Buffer.from([byte]), lines.subarray(at)]);
      }
      expect([trial, fast.firstMismatch(changed, few)]).toEqual([trial, reference.firstMismatch(changed, few)]);
    }
  });

  it('both refuse a field that runs past its packet\'s end, taking nothing of the next packet', () => {
    const cut = packetBatch([packRow([Buffer.from('1')]), Buffer.from([0x05, 0x31, 0x32]), packRow([Buffer.from('3456789')])]);
    expect(() => reference.encode(cut)).toThrow(/past its end/);
    expect(() => fast.encode(cut)).toThrow(/row 1 runs past/);
    // A length prefix itself cut off by the batch's end (8 bytes announced, 3 there).
    for (const prefix of [0xfe, 0xff, 0xfd, 0xfc]) {
      const short = packetBatch([packRow([Buffer.from('1')]), Buffer.from([0x01, 0x31, prefix, 0x05, 0x00])]);
      expect(() => reference.encode(short)).toThrow(/row packet of 5 bytes has a field of .* past its end/);
      expect(() => fast.encode(short)).toThrow(/row 1 runs past/);
      const { lines } = reference.encode(packetBatch([packRow([Buffer.from('1')]), packRow([Buffer.from('1'), Buffer.from('x')])]));
      expect([prefix, fast.firstMismatch(lines, short)]).toEqual([prefix, reference.firstMismatch(lines, short)]);
    }
  });
});

describe('the WebAssembly batch kernel\'s memory', () => {
  it('takes a batch only when its packets, lines and lines read back fit in the memory it may use', () => {
    const kernel = batchKernel(batchKernelModule(), 0, 8 * 1024 * 1024);
    expect(kernel.fits(1024 * 1024, 1000)).toBe(true); // ~7 MB laid out
    expect(kernel.fits(2 * 1024 * 1024, 1000)).toBe(false); // ~14 MB
    expect(batchKernel(batchKernelModule(), 0).fits(256 * 1024 * 1024, 1_000_000)).toBe(true); // 2 GiB unless told
    expect(batchKernel(batchKernelModule(), 0).fits(512 * 1024 * 1024, 1)).toBe(false);
  });

  it('digests a batch whose packets fit, though its lines would not; leaves one that does not to JavaScript', () => {
    const kernel = batchKernel(batchKernelModule(), 0, 3 * 1024 * 1024);
    const rows = packetBatch([packRow([Buffer.alloc(1024 * 1024, 0x41)])]);
    const larger = packetBatch([packRow([Buffer.alloc(3 * 1024 * 1024, 0x41)])]);
    expect(kernel.fits(rows.bytes.length, rows.count)).toBe(false);
    expect(kernel.digest(rows.bytes, rows.lengths, rows.count)).toBeDefined();
    expect(kernel.digest(larger.bytes, larger.lengths, larger.count)).toBeUndefined();
  });
});
