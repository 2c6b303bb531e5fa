/**
 * The dump's CPU-heavy inner loops — turning row packets into dump lines and hashing them into a
 * table digest — written as ONE self-contained function, so the same code runs on the main thread
 * and, from its source text, in the encoder worker threads (encode-pool.ts). It must use nothing
 * from outside its body but JavaScript, Node globals (Buffer, typed arrays, Math) and `sha256Hex`
 * (each thread passes node:crypto's one-shot `hash`: 4× faster than a Hash object per body).
 *
 * Long fields are scanned natively (Buffer#indexOf for each byte a line escapes, run on through a
 * batch from one long field to the next; the runs between them copied or compared by Buffer#copy /
 * Buffer#compare), so a JSON body or a blob costs a few native calls rather than a JavaScript step
 * per byte.
 *
 * Formats: row packets as row-packet.ts describes them; lines as row-format.ts describes them;
 * the digest as table-digest.ts describes it.
 */
import { hash } from 'node:crypto';

export function rowKernel(sha256Hex: (bytes: Uint8Array) => string) {
  const TAB = 0x09;
  const LF = 0x0a;
  const CR = 0x0d;
  const BACKSLASH = 0x5c;
  const NUL = 0x00;
  const NULL_MARKER = 0xfb;
  /** The protocol header (3-byte length, sequence id) before each packet of a batch (framed-batch.ts). */
  const HEADER = 4;
  // Hot loops read no global: inside a vm context (jest's) every global lookup goes through the
  // context's interceptor, which made hashing ~200 times slower there.
  const imul = Math.imul;

  /** A length-encoded integer at `at`: [value, bytes used]; NULL is [-1, 1]. */
  function readLength(packet: Uint8Array, at: number): [number, number] {
    const first = packet[at];
    if (first < 0xfb) return [first, 1];
    if (first === NULL_MARKER) return [-1, 1];
    if (first === 0xfc) return [packet[at + 1] | (packet[at + 2] << 8), 3];
    if (first === 0xfd) return [packet[at + 1] | (packet[at + 2] << 8) | (packet[at + 3] << 16), 4];
    // 0xfe: 8 bytes, little-endian; a field is at most 4 GiB, so the high word is 0.
    const low = (packet[at + 1] | (packet[at + 2] << 8) | (packet[at + 3] << 16)) + packet[at + 4] * 0x1000000;
    const high = (packet[at + 5] | (packet[at + 6] << 8) | (packet[at + 7] << 16)) + packet[at + 8] * 0x1000000;
    return [low + high * 0x100000000, 9];
  }

  /**
   * The most bytes the lines of `rows` packets totalling `packetBytes` can take: a NULL column is one
   * packet byte and three line bytes (TAB, `\\N`), an escaped byte two; plus one LF per row.
   */
  function maxLineBytes(packetBytes: number, rows: number): number {
    return packetBytes * 3 + rows;
  }

  /** The bytes a dump line escapes, and the letter each is escaped with (after a backslash). */
  const SPECIALS = [TAB, LF, CR, BACKSLASH, NUL];
  const ESCAPES = [0x74, 0x6e, 0x72, BACKSLASH, 0x30];
  /**
   * From this many bytes on, a field is scanned natively (Buffer#indexOf for each special byte,
   * runs between them copied or compared natively): a few native calls instead of a JavaScript
   * step per byte. Shorter fields (keys, numbers, names) are cheaper byte by byte.
   */
  const LONG_FIELD = 48;
  /** Below this many bytes a run is copied or compared byte by byte rather than by a native call. */
  const SHORT_RUN = 16;
  const NativeBuffer = Buffer;

  /** `src[from..to)` as a Buffer over the same memory. */
  function bufferOver(src: Uint8Array, from: number, to: number): Buffer {
    return NativeBuffer.from(src.buffer, src.byteOffset + from, to - from);
  }

  /**
   * The source whose long fields are being scanned, front to back (a batch's packets, as a Buffer
   * over them), and where each special byte next occurs in it at or after the last field scanned
   * (the source's length when nowhere; -1 before the first search). A special byte is searched for
   * again only once a field starts past where it was last found: each search runs on from there, so
   * a batch costs each special byte at most one pass over it — not one native call per special
   * byte and per long field (with a Buffer made for each field), as when every field was searched
   * on its own.
   */
  let source: Buffer = NativeBuffer.alloc(0);
  const nextSpecial = new Int32Array(SPECIALS.length);

  /** Starts scanning `src` (whose bytes do not change until the next call) from its start. */
  function beginScan(src: Uint8Array): void {
    source = bufferOver(src, 0, src.length);
    nextSpecial.fill(-1);
  }

  /** {@link nextSpecial} brought up to the field starting at `from` of the source (fields are scanned in order). */
  function scanField(from: number): void {
    for (let s = 0; s < SPECIALS.length; s += 1) {
      if (nextSpecial[s] >= from) continue;
      const found = source.indexOf(SPECIALS[s], from);
      nextSpecial[s] = found < 0 ? source.length : found;
    }
  }

  /** Past the special byte `which` at {@link nextSpecial}[which]: finds its next occurrence; returns where the next run starts. */
  function passSpecial(which: number): number {
    const p = nextSpecial[which] + 1;
    const found = source.indexOf(SPECIALS[which], p);
    nextSpecial[which] = found < 0 ? source.length : found;
    return p;
  }

  /** The index in {@link SPECIALS} of the nearest special byte of the source before `stop` (the field's end), -1 when none is left. */
  function nearestSpecial(stop: number): number {
    let which = -1;
    let at = stop;
    for (let s = 0; s < SPECIALS.length; s += 1) {
      if (nextSpecial[s] < at) {
        at = nextSpecial[s];
        which = s;
      }
    }
    return which;
  }

  /** The field `src[at..stop)` escaped into `out[o..]`, byte by byte; returns the new end. */
  function escapeBytes(src: Uint8Array, at: number, stop: number, out: Uint8Array, start: number): number {
    let o = start;
    for (let i = at; i < stop; i += 1) {
      const byte = src[i];
      if (byte > CR && byte !== BACKSLASH) {
        out[o++] = byte;
        continue;
      }
      switch (byte) {
        case TAB: out[o++] = BACKSLASH; out[o++] = 0x74; break;
        case LF: out[o++] = BACKSLASH; out[o++] = 0x6e; break;
        case CR: out[o++] = BACKSLASH; out[o++] = 0x72; break;
        case BACKSLASH: out[o++] = BACKSLASH; out[o++] = BACKSLASH; break;
        case NUL: out[o++] = BACKSLASH; out[o++] = 0x30; break;
        default: out[o++] = byte;
      }
    }
    return o;
  }

  /** A long field `src[at..stop)` ({@link LONG_FIELD}) of the source being scanned escaped into `out[o..]`; returns the new end. */
  function escapeLongField(src: Uint8Array, at: number, stop: number, out: Buffer, start: number): number {
    scanField(at);
    let o = start;
    for (let p = at; ;) {
      const which = nearestSpecial(stop);
      const end = which < 0 ? stop : nextSpecial[which];
      if (end - p < SHORT_RUN) for (let i = p; i < end; i += 1) out[o++] = src[i];
      else o += source.copy(out, o, p, end);
      if (which < 0) return o;
      out[o++] = BACKSLASH;
      out[o++] = ESCAPES[which];
      p = passSpecial(which);
    }
  }

  /**
   * Why a packet cannot be read: a field said to hold `length` bytes from `at` runs past the end of
   * the packet's `size` bytes (a server's row packet never does; a reader must not take the bytes
   * after it, which are another row's or nobody's).
   */
  function overrun(length: number, at: number, size: number): string {
    return `a row packet of ${size} bytes has a field of ${length} bytes at byte ${at}, past its end: the row is malformed`;
  }

  /**
   * The packet `src[from..to)` as one dump line (LF-terminated) at `out[o..]`; returns the new end.
   * @throws Error when a field runs past the packet's end
   */
  function encodePacket(src: Uint8Array, from: number, to: number, out: Buffer, start: number): number {
    beginScan(src);
    return encodeLine(src, from, to, out, start);
  }

  /** {@link encodePacket} of the next packet of the source being scanned ({@link beginScan}). */
  function encodeLine(src: Uint8Array, from: number, to: number, out: Buffer, start: number): number {
    let o = start;
    let at = from;
    while (at < to) {
      if (at > from) out[o++] = TAB;
      let length = src[at];
      if (length < 0xfb) {
        at += 1;
      } else if (length === NULL_MARKER) {
        out[o++] = BACKSLASH;
        out[o++] = 0x4e; // \N
        at += 1;
        continue;
      } else {
        const [value, used] = readLength(src, at);
        length = value;
        at += used;
      }
      const stop = at + length;
      // Not `stop > to`: a length prefix cut off by the batch's end reads as NaN, past every end too.
      if (!(stop <= to)) throw new Error(overrun(length, at - from, to - from));
      o = length < LONG_FIELD ? escapeBytes(src, at, stop, out, o) : escapeLongField(src, at, stop, out, o);
      at = stop;
    }
    out[o++] = LF;
    return o;
  }

  /** What LOAD DATA (`ESCAPED BY '\\'`) reads for the escape sequence BACKSLASH + `byte`. */
  function unescaped(byte: number): number {
    switch (byte) {
      case 0x74: return TAB; // \t
      case 0x6e: return LF; // \n
      case 0x72: return CR; // \r
      case 0x30: return NUL; // \0
      case 0x5a: return 0x1a; // \Z
      case 0x62: return 0x08; // \b
      default: return byte; // \\ and any other byte: itself
    }
  }

  /**
   * Whether `bytes[at..stop)` reads back from `lines` at `o` as LOAD DATA reads them, byte by byte:
   * the new position in `lines` after them, -1 when they do not. A backslash escapes the byte after
   * it (which reads back as {@link unescaped} says); an unescaped TAB or LF would end the field.
   */
  function readsBackBytes(lines: Uint8Array, start: number, bytes: Uint8Array, at: number, stop: number): number {
    let o = start;
    for (let i = at; i < stop; i += 1) {
      let byte = lines[o++];
      if (byte === BACKSLASH) byte = unescaped(lines[o++]);
      else if (byte === TAB || byte === LF) return -1; // a field or line would end here
      if (byte !== bytes[i]) return -1;
    }
    return o;
  }

  /**
   * Whether the long field `bytes[at..stop)` reads back from `lines` at `o` as LOAD DATA reads it:
   * the new position in `lines` after it, -1 when it does not. Between the field's special bytes
   * the line holds the same bytes, compared natively (equal bytes hold no backslash, TAB or LF
   * either) — or, where they differ, read back byte by byte ({@link readsBackBytes}: an ordinary
   * byte escaped reads back as itself, as it would in a short field); each special byte must read
   * back from its escape (or itself, when no field or line would end there).
   */
  function readsBackLong(lines: Buffer, start: number, bytes: Uint8Array, at: number, stop: number): number {
    scanField(at);
    let o = start;
    for (let p = at; ;) {
      const which = nearestSpecial(stop);
      const run = (which < 0 ? stop : nextSpecial[which]) - p;
      if (o + run > lines.length) return -1;
      if (run >= SHORT_RUN && lines.compare(source, p, p + run, o, o + run) === 0) o += run;
      else o = readsBackBytes(lines, o, bytes, p, p + run);
      if (o < 0) return -1;
      if (which < 0) return o;
      let byte = lines[o++];
      if (byte === BACKSLASH) byte = unescaped(lines[o++]);
      else if (byte === TAB || byte === LF) return -1; // a field or line would end here
      if (byte !== SPECIALS[which]) return -1;
      p = passSpecial(which);
    }
  }

  /**
   * Reads `lines` back as LOAD DATA would and compares them with the packets they were encoded
   * from (a framed batch: `count` packets in `bytes`, their payload lengths in `lengths`), byte
   * for byte, nothing allocated: the index of the first row that reads back otherwise, `count`
   * when bytes are left over after the last line, -1 when every row reads back exactly.
   */
  function firstMismatch(lines: Uint8Array, bytes: Uint8Array, lengths: Uint32Array, count: number): number {
    const linesBuffer = bufferOver(lines, 0, lines.length);
    beginScan(bytes);
    let o = 0;
    let at = 0;
    for (let row = 0; row < count; row += 1) {
      at += HEADER;
      const end = at + lengths[row];
      const first = at;
      while (at < end) {
        if (at > first && lines[o++] !== TAB) return row;
        let length = bytes[at];
        if (length === NULL_MARKER) {
          if (lines[o] !== BACKSLASH || lines[o + 1] !== 0x4e) return row;
          o += 2;
          at += 1;
          continue;
        }
        if (length < 0xfb) {
          at += 1;
        } else {
          const [value, used] = readLength(bytes, at);
          length = value;
          at += used;
        }
        if (lines[o] === BACKSLASH && lines[o + 1] === 0x4e && (lines[o + 2] === TAB || lines[o + 2] === LF)) return row; // a field of \N alone is NULL
        const stop = at + length;
        if (!(stop <= end)) return row; // a field past its packet's end (encodePacket refuses it), or a cut-off length (NaN)
        if (length >= LONG_FIELD) {
          o = readsBackLong(linesBuffer, o, bytes, at, stop);
          if (o < 0) return row;
          at = stop;
          continue;
        }
        o = readsBackBytes(lines, o, bytes, at, stop);
        if (o < 0) return row;
        at = stop;
      }
      if (lines[o++] !== LF) return row;
    }
    return o === lines.length ? -1 : count;
  }

  const C1 = 0x239b961b;
  const C2 = 0xab0e9789;
  const C3 = 0x38b34ae5;
  const C4 = 0xa1e38b93;
  const SEED = 0x64626b70; // "dbkp"
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

  function fmix(input: number): number {
    let h = input;
    h ^= h >>> 16;
    h = imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h;
  }

  /**
   * MurmurHash3 x86_128 over little-endian 32-bit words: `bytes[0..length)` must be zero-padded to
   * a whole 16-byte block, and `words` must view the same memory.
   */
  function murmurWords(words: Int32Array, length: number, seed: number, out: Uint32Array): void {
    const w = words;
    let h1 = seed;
    let h2 = seed;
    let h3 = seed;
    let h4 = seed;
    const blocks = length >> 4;
    for (let i = 0; i < blocks; i += 1) {
      const at = i * 4;
      let k1 = w[at]; let k2 = w[at + 1]; let k3 = w[at + 2]; let k4 = w[at + 3];
      k1 = imul(rotl(imul(k1, C1), 15), C2); h1 ^= k1;
      h1 = rotl(h1, 19); h1 = (h1 + h2) | 0; h1 = (imul(h1, 5) + 0x561ccd1b) | 0;
      k2 = imul(rotl(imul(k2, C2), 16), C3); h2 ^= k2;
      h2 = rotl(h2, 17); h2 = (h2 + h3) | 0; h2 = (imul(h2, 5) + 0x0bcaa747) | 0;
      k3 = imul(rotl(imul(k3, C3), 17), C4); h3 ^= k3;
      h3 = rotl(h3, 15); h3 = (h3 + h4) | 0; h3 = (imul(h3, 5) + 0x96cd1c35) | 0;
      k4 = imul(rotl(imul(k4, C4), 18), C1); h4 ^= k4;
      h4 = rotl(h4, 13); h4 = (h4 + h1) | 0; h4 = (imul(h4, 5) + 0x32ac3b17) | 0;
    }
    const rest = length & 15;
    if (rest > 0) {
      // The tail is zero-padded, so a partial word equals the specification's byte-wise assembly.
      const at = blocks * 4;
      if (rest > 12) h4 ^= imul(rotl(imul(w[at + 3], C4), 18), C1);
      if (rest > 8) h3 ^= imul(rotl(imul(w[at + 2], C3), 17), C4);
      if (rest > 4) h2 ^= imul(rotl(imul(w[at + 1], C2), 16), C3);
      h1 ^= imul(rotl(imul(w[at], C1), 15), C2);
    }
    h1 ^= length; h2 ^= length; h3 ^= length; h4 ^= length;
    h1 = (h1 + h2 + h3 + h4) | 0; h2 = (h2 + h1) | 0; h3 = (h3 + h1) | 0; h4 = (h4 + h1) | 0;
    h1 = fmix(h1); h2 = fmix(h2); h3 = fmix(h3); h4 = fmix(h4);
    h1 = (h1 + h2 + h3 + h4) | 0; h2 = (h2 + h1) | 0; h3 = (h3 + h1) | 0; h4 = (h4 + h1) | 0;
    out[0] = h1; out[1] = h2; out[2] = h3; out[3] = h4;
  }

  /** A running table digest: a 128-bit sum (4 little-endian limbs) and a row count. */
  interface DigestState {
    sum: Uint32Array;
    rows: number;
    bytes: Uint8Array;
    words: Int32Array;
    hash: Uint32Array;
  }

  function newDigest(): DigestState {
    const bytes = new Uint8Array(4096);
    return { sum: new Uint32Array(4), rows: 0, bytes, words: new Int32Array(bytes.buffer), hash: new Uint32Array(4) };
  }

  /** Adds `words` to the 128-bit sum, modulo 2^128. */
  function accumulate(state: DigestState, words: Uint32Array): void {
    let carry = 0;
    for (let limb = 0; limb < 4; limb += 1) {
      const total = state.sum[limb] + (words[limb] >>> 0) + carry;
      state.sum[limb] = total >>> 0;
      carry = total > 0xffffffff ? 1 : 0;
    }
  }

  /** Adds the row whose packet is `src[from..to)`: its bytes, copied into a word-aligned scratch. */
  function digestPacket(state: DigestState, src: Uint8Array, from: number, to: number): void {
    const length = to - from;
    if (length + 16 > state.bytes.length) {
      state.bytes = new Uint8Array((Math.max(length + 16, state.bytes.length * 2) + 15) & ~15);
      state.words = new Int32Array(state.bytes.buffer);
    }
    const buf = state.bytes;
    if (length < 64) for (let j = 0; j < length; j += 1) buf[j] = src[from + j];
    else Buffer.prototype.copy.call(src, buf, 0, from, to); // native copy (a typed-array set can take a slow path across realms)
    for (let j = length; j < ((length + 15) & ~15); j += 1) buf[j] = 0;
    murmurWords(state.words, length, SEED, state.hash);
    accumulate(state, state.hash);
    state.rows += 1;
  }

  /**
   * Adds to `state` the row `src[from..to)` projected as a server sends `SELECT <the columns at
   * projection.keep>, SHA2(<the column at projection.hashed>, 256)`: the fields at `keep`, then the
   * lowercase hex sha256 of the field at `hashed` (NULL stays NULL) — one row packet, built in
   * `scratch` (grown as needed; returned).
   */
  function digestProjection(state: DigestState, src: Uint8Array, from: number, to: number, projection: Projection, scratch: Uint8Array): Uint8Array {
    const { keep, hashed } = projection;
    const spans = projection.spans;
    // Where each field starts (its length prefix) and ends, up to the last one needed.
    let at = from;
    let field = 0;
    for (; field <= projection.last && at < to; field += 1) {
      spans[2 * field] = at;
      const [length, used] = readLength(src, at);
      at += used + (length < 0 ? 0 : length);
      spans[2 * field + 1] = at;
    }
    if (field <= projection.last) throw new Error(`a row of ${field} columns has no column ${projection.last + 1} to project`);
    if (!(at <= to)) throw new Error(overrun(at - spans[2 * (field - 1)], spans[2 * (field - 1)] - from, to - from));
    let size = 1 + 64;
    for (let i = 0; i < keep.length; i += 1) size += spans[2 * keep[i] + 1] - spans[2 * keep[i]];
    let out = scratch;
    if (out.length < size) out = new Uint8Array(size * 2);
    let o = 0;
    for (let i = 0; i < keep.length; i += 1) {
      const start = spans[2 * keep[i]];
      const end = spans[2 * keep[i] + 1];
      for (let j = start; j < end; j += 1) out[o++] = src[j];
    }
    const [length, used] = readLength(src, spans[2 * hashed]);
    if (length < 0) {
      out[o++] = NULL_MARKER;
    } else {
      const start = spans[2 * hashed] + used;
      const hex = sha256Hex(src.subarray(start, start + length));
      out[o++] = 64;
      for (let j = 0; j < 64; j += 1) out[o++] = hex.charCodeAt(j);
    }
    digestPacket(state, out, 0, o);
    return out;
  }

  /** The columns a {@link digestProjection} keeps and hashes, by index, and its scratch for field offsets. */
  interface Projection {
    keep: readonly number[];
    hashed: number;
    last: number;
    spans: Float64Array;
  }

  function projectionOf(keep: readonly number[], hashed: number): Projection {
    const last = Math.max(hashed, ...keep);
    return { keep, hashed, last, spans: new Float64Array(2 * (last + 1)) };
  }

  /**
   * A batch as the encoder workers get it (framed-batch.ts): `count` packets in `bytes`, each after
   * its 4-byte protocol header, their payload lengths in `lengths`. Returns the batch's dump lines
   * and its digest. (The threads run batch-kernel.ts's WebAssembly of this, held equal to it, and
   * this for a batch too large for WebAssembly's memory.)
   */
  function encodeBatch(bytes: Uint8Array, lengths: Uint32Array, count: number): { lines: Uint8Array; digest: DigestState } {
    const out = Buffer.allocUnsafe(maxLineBytes(bytes.length, count));
    const digest = newDigest();
    let at = 0;
    let o = 0;
    beginScan(bytes);
    for (let i = 0; i < count; i += 1) {
      at += HEADER;
      const end = at + lengths[i];
      digestPacket(digest, bytes, at, end);
      o = encodeLine(bytes, at, end, out, o);
      at = end;
    }
    return { lines: out.subarray(0, o), digest };
  }

  /** The digest of a batch's rows ({@link encodeBatch}) projected ({@link digestProjection}). */
  function projectBatch(bytes: Uint8Array, lengths: Uint32Array, count: number, projected: { keep: readonly number[]; hashed: number }): DigestState {
    const projection = projectionOf(projected.keep, projected.hashed);
    const digest = newDigest();
    let scratch: Uint8Array = new Uint8Array(256);
    let at = 0;
    for (let i = 0; i < count; i += 1) {
      at += HEADER;
      const end = at + lengths[i];
      scratch = digestProjection(digest, bytes, at, end, projection, scratch);
      at = end;
    }
    return digest;
  }

  return { readLength, maxLineBytes, encodePacket, firstMismatch, murmurWords, newDigest, accumulate, digestPacket, digestProjection, projectionOf, encodeBatch, projectBatch, SEED };
}

/** The kernel for this thread. */
export const kernel = rowKernel((bytes) => hash('sha256', bytes, 'hex'));
export type DigestState = ReturnType<typeof kernel.newDigest>;
