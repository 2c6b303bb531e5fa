/**
 * The encoder threads' batch loops in WebAssembly (AssemblyScript, compiled by `npm run build`
 * into kernel.wasm.ts, committed): a batch's dump lines and row digests in one pass, and its lines read back
 * as LOAD DATA reads them; and a batch's row digests alone, for tables read back. Byte for byte what row-kernel.ts's `encodeBatch` and `firstMismatch`
 * do — that JavaScript is the reference, and row-kernel.test.ts holds the two equal on batches
 * of every kind of field — at about a quarter of its time: a dump line is mostly bytes copied
 * as they are, which SIMD checks and copies 16 at a time.
 *
 * Formats: row packets as row-packet.ts describes them; lines as row-format.ts; the digest as
 * table-digest.ts. Memory is laid out by the caller (batch-kernel.ts); nothing here allocates.
 */
const TAB: u32 = 0x09;
const LF: u32 = 0x0a;
const CR: u32 = 0x0d;
const BACKSLASH: u32 = 0x5c;
const NUL: u32 = 0x00;
const NULL_MARKER: u32 = 0xfb;
/** The protocol header before each packet of a batch (framed-batch.ts). */
const HEADER: usize = 4;

const C1: u32 = 0x239b961b;
const C2: u32 = 0xab0e9789;
const C3: u32 = 0x38b34ae5;
const C4: u32 = 0xa1e38b93;
/** The digest's seed, as row-kernel.ts's SEED ("dbkp"). */
const SEED: u32 = 0x64626b70;

/** Where the caller's memory starts: the first 16-byte boundary past this module's own data. */
export function heapStart(): usize {
  return (__heap_base + 15) & ~15;
}

/** The digest sum of the last batch encoded, modulo 2^128, as two 64-bit halves. */
let sumLow: u64 = 0;
let sumHigh: u64 = 0;

/** The sum's 32-bit limb `i` (0 is the lowest), as TableDigest keeps it. */
export function sumLimb(i: i32): u32 {
  return <u32>((i < 2 ? sumLow : sumHigh) >>> (<u64>(i & 1) * 32));
}

/** The bytes the last {@link readLength} read. */
let lengthBytes: usize = 0;

/** The length-encoded integer at `at` (-1 for NULL); sets {@link lengthBytes}. */
@inline function readLength(at: usize): i64 {
  const first = <u32>load<u8>(at);
  if (first < 0xfb) { lengthBytes = 1; return first; }
  if (first == NULL_MARKER) { lengthBytes = 1; return -1; }
  if (first == 0xfc) { lengthBytes = 3; return <i64>load<u16>(at + 1); }
  if (first == 0xfd) { lengthBytes = 4; return <i64>(<u32>load<u16>(at + 1) | (<u32>load<u8>(at + 3) << 16)); }
  // 0xfe: 8 bytes. Anything past 2^63 runs past its packet, as anything past 4 GiB does.
  lengthBytes = 9;
  return <i64>(load<u64>(at + 1) & 0x7fffffffffffffff);
}

@inline function fmix(input: u32): u32 {
  let h = input;
  h ^= h >>> 16; h *= 0x85ebca6b; h ^= h >>> 13; h *= 0xc2b2ae35; h ^= h >>> 16;
  return h;
}

/** The little-endian word of the `bytes` (1..4) bytes at `at`, zero-padded. */
@inline function tailWord(at: usize, bytes: u32): u32 {
  if (bytes >= 4) return load<u32>(at);
  let word: u32 = 0;
  for (let i: u32 = 0; i < bytes; i++) word |= <u32>load<u8>(at + <usize>i) << (i * 8);
  return word;
}

/** Adds MurmurHash3 x86_128 (seed {@link SEED}) of the `length` bytes at `at` to the sum. */
function digestRow(at: usize, length: u32): void {
  let h1 = SEED; let h2 = SEED; let h3 = SEED; let h4 = SEED;
  let p = at;
  for (const blocksEnd = at + <usize>(length & ~15); p < blocksEnd; p += 16) {
    let k1 = load<u32>(p); let k2 = load<u32>(p, 4); let k3 = load<u32>(p, 8); let k4 = load<u32>(p, 12);
    k1 *= C1; k1 = rotl<u32>(k1, 15); k1 *= C2; h1 ^= k1;
    h1 = rotl<u32>(h1, 19); h1 += h2; h1 = h1 * 5 + 0x561ccd1b;
    k2 *= C2; k2 = rotl<u32>(k2, 16); k2 *= C3; h2 ^= k2;
    h2 = rotl<u32>(h2, 17); h2 += h3; h2 = h2 * 5 + 0x0bcaa747;
    k3 *= C3; k3 = rotl<u32>(k3, 17); k3 *= C4; h3 ^= k3;
    h3 = rotl<u32>(h3, 15); h3 += h4; h3 = h3 * 5 + 0x96cd1c35;
    k4 *= C4; k4 = rotl<u32>(k4, 18); k4 *= C1; h4 ^= k4;
    h4 = rotl<u32>(h4, 13); h4 += h1; h4 = h4 * 5 + 0x32ac3b17;
  }
  const rest = length & 15;
  if (rest > 12) { let k4 = tailWord(p + 12, rest - 12); k4 *= C4; k4 = rotl<u32>(k4, 18); k4 *= C1; h4 ^= k4; }
  if (rest > 8) { let k3 = tailWord(p + 8, rest - 8); k3 *= C3; k3 = rotl<u32>(k3, 17); k3 *= C4; h3 ^= k3; }
  if (rest > 4) { let k2 = tailWord(p + 4, rest - 4); k2 *= C2; k2 = rotl<u32>(k2, 16); k2 *= C3; h2 ^= k2; }
  if (rest > 0) { let k1 = tailWord(p, rest); k1 *= C1; k1 = rotl<u32>(k1, 15); k1 *= C2; h1 ^= k1; }
  h1 ^= length; h2 ^= length; h3 ^= length; h4 ^= length;
  h1 += h2 + h3 + h4; h2 += h1; h3 += h1; h4 += h1;
  h1 = fmix(h1); h2 = fmix(h2); h3 = fmix(h3); h4 = fmix(h4);
  h1 += h2 + h3 + h4; h2 += h1; h3 += h1; h4 += h1;
  const low = <u64>h1 | (<u64>h2 << 32);
  const before = sumLow;
  sumLow += low;
  sumHigh += (<u64>h3 | (<u64>h4 << 32)) + (sumLow < before ? 1 : 0);
}

/** A mask of the bytes of `v` a dump line escapes: TAB, LF, CR, BACKSLASH and NUL. */
@inline function specials(v: v128): v128 {
  return v128.or(
    v128.or(i8x16.eq(v, i8x16.splat(<i8>TAB)), i8x16.eq(v, i8x16.splat(<i8>LF))),
    v128.or(v128.or(i8x16.eq(v, i8x16.splat(<i8>CR)), i8x16.eq(v, i8x16.splat(<i8>BACKSLASH))), i8x16.eq(v, i8x16.splat(<i8>NUL))),
  );
}

/** `byte` as a dump line holds it, at `o`; returns the new end. */
@inline function escapeByte(byte: u32, o: usize): usize {
  if (byte > CR && byte != BACKSLASH) { store<u8>(o, byte); return o + 1; }
  if (byte == TAB) { store<u16>(o, BACKSLASH | (0x74 << 8)); return o + 2; }
  if (byte == LF) { store<u16>(o, BACKSLASH | (0x6e << 8)); return o + 2; }
  if (byte == CR) { store<u16>(o, BACKSLASH | (0x72 << 8)); return o + 2; }
  if (byte == BACKSLASH) { store<u16>(o, BACKSLASH | (BACKSLASH << 8)); return o + 2; }
  if (byte == NUL) { store<u16>(o, BACKSLASH | (0x30 << 8)); return o + 2; }
  store<u8>(o, byte);
  return o + 1;
}

/** The field `[at, stop)` escaped at `o`; returns the new end. */
function escapeField(at: usize, stop: usize, o: usize): usize {
  let p = at;
  while (p + 16 <= stop) {
    const v = v128.load(p);
    const mask = i8x16.bitmask(specials(v));
    // All 16 stored; when a byte needs escaping, only those before it count (the rest is written
    // over). At least 16 bytes of output are still to come, so the store stays inside the lines.
    v128.store(o, v);
    if (mask == 0) {
      p += 16;
      o += 16;
      continue;
    }
    const clean = <usize>ctz<u32>(mask);
    o = escapeByte(<u32>load<u8>(p + clean), o + clean);
    p += clean + 1;
  }
  for (; p < stop; p++) o = escapeByte(<u32>load<u8>(p), o);
  return o;
}

/** The row of the last batch whose field ran past its packet's end; -1 when none did. */
let overrunRow: i32 = -1;

export function overrun(): i32 {
  return overrunRow;
}

/**
 * The `count` packets at `packets` (each after its header; payload lengths at `lengths`) as dump
 * lines at `out`, each row's digest added to a fresh sum ({@link sumLimb}): the lines' length, or
 * -1 when a field runs past its packet's end ({@link overrun} says which row).
 */
export function encodeBatch(packets: usize, lengths: usize, count: i32, out: usize): i32 {
  sumLow = 0;
  sumHigh = 0;
  overrunRow = -1;
  let at = packets;
  let o = out;
  for (let row = 0; row < count; row++) {
    at += HEADER;
    const size = load<u32>(lengths + (<usize>row << 2));
    const end = at + <usize>size;
    digestRow(at, size);
    for (let p = at; p < end;) {
      if (p > at) { store<u8>(o, TAB); o++; }
      const length = readLength(p);
      if (length < 0) {
        store<u16>(o, BACKSLASH | (0x4e << 8)); // \N
        o += 2;
        p += 1;
        continue;
      }
      p += lengthBytes;
      if (<u64>p + <u64>length > <u64>end) {
        overrunRow = row;
        return -1;
      }
      const stop = p + <usize>length;
      o = escapeField(p, stop, o);
      p = stop;
    }
    store<u8>(o, LF);
    o++;
    at = end;
  }
  return <i32>(o - out);
}

/** Adds each of the `count` packets at `packets` (laid out as for {@link encodeBatch}) to a fresh sum ({@link sumLimb}). */
export function digestBatch(packets: usize, lengths: usize, count: i32): void {
  sumLow = 0;
  sumHigh = 0;
  let at = packets;
  for (let row = 0; row < count; row++) {
    at += HEADER;
    const size = load<u32>(lengths + (<usize>row << 2));
    digestRow(at, size);
    at += <usize>size;
  }
}

/** What LOAD DATA (`ESCAPED BY '\\'`) reads for the escape sequence BACKSLASH + `byte`. */
@inline function unescaped(byte: i32): i32 {
  if (byte == 0x74) return TAB; // \t
  if (byte == 0x6e) return LF; // \n
  if (byte == 0x72) return CR; // \r
  if (byte == 0x30) return NUL; // \0
  if (byte == 0x5a) return 0x1a; // \Z
  if (byte == 0x62) return 0x08; // \b
  return byte; // \\ and any other byte: itself
}

/** The end of the lines being read back. */
let linesEnd: usize = 0;

/** The byte of the lines at `o`; -1 past their end. */
@inline function lineByte(o: usize): i32 {
  return o < linesEnd ? <i32>load<u8>(o) : -1;
}

/**
 * Reads the `linesLength` bytes at `lines` back as LOAD DATA would and compares them with the
 * `count` packets they were encoded from (laid out as for {@link encodeBatch}), byte for byte: the
 * index of the first row that reads back otherwise, `count` when bytes are left over after the
 * last line, -1 when every row reads back exactly.
 */
export function firstMismatch(lines: usize, linesLength: i32, packets: usize, lengths: usize, count: i32): i32 {
  linesEnd = lines + <usize>linesLength;
  let o = lines;
  let at = packets;
  for (let row = 0; row < count; row++) {
    at += HEADER;
    const end = at + <usize>load<u32>(lengths + (<usize>row << 2));
    const first = at;
    while (at < end) {
      if (at > first) {
        if (lineByte(o) != TAB) return row;
        o++;
      }
      const length = readLength(at);
      if (length < 0) {
        if (lineByte(o) != BACKSLASH || lineByte(o + 1) != 0x4e) return row;
        o += 2;
        at += 1;
        continue;
      }
      at += lengthBytes;
      if (lineByte(o) == BACKSLASH && lineByte(o + 1) == 0x4e) {
        const next = lineByte(o + 2);
        if (next == TAB || next == LF) return row; // a field of \N alone is NULL
      }
      if (<u64>at + <u64>length > <u64>end) return row; // a field past its packet's end (encodeBatch refuses it)
      const stop = at + <usize>length;
      while (at < stop) {
        if (at + 16 <= stop && o + 16 <= linesEnd) {
          // 16 bytes the line holds as they are: none escaped, and the same in the line (so none
          // there is a backslash, TAB or LF either).
          const v = v128.load(at);
          if (i8x16.all_true(i8x16.eq(v, v128.load(o))) && i8x16.bitmask(specials(v)) == 0) {
            at += 16;
            o += 16;
            continue;
          }
        }
        let byte = lineByte(o);
        o++;
        if (byte == BACKSLASH) {
          byte = lineByte(o);
          o++;
          if (byte < 0) return row;
          byte = unescaped(byte);
        } else if (byte == TAB || byte == LF) {
          return row; // a field or line would end here
        }
        if (byte != <i32>load<u8>(at)) return row;
        at++;
      }
    }
    if (lineByte(o) != LF) return row;
    o++;
  }
  return o == linesEnd ? -1 : count;
}
