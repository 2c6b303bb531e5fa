/**
 * Jute records read from a stream of chunks (a file read stream) with memory bounded by the largest
 * record: a record is parsed synchronously from the bytes at hand, and when they run out
 * ({@link JuteUnderflow}) more are read and the record is parsed again from its start. Bytes are
 * let go once a record is complete; an optional Adler-32 covers every byte consumed. With `reuse`
 * the buffers are recycled (a copy made as it is read allocates nothing per record).
 */
import { Adler32 } from './adler32';
import { JuteReader, JuteUnderflow } from './jute-reader';

/** The stream ended inside a record: `offset` is where that record began, `available` how many bytes of it there were. */
export class JuteTruncated extends Error {
  constructor(readonly offset: number, readonly available: number) {
    super(`the stream ends ${available} bytes into a record at offset ${offset}`);
    this.name = 'JuteTruncated';
  }
}

const EMPTY = Buffer.alloc(0);
/**
 * When a record spans chunks, this much of what follows it is copied along (and kept in the chunk
 * too), so that its last fields, or the next small records, need no second join.
 */
const SLACK = 64 * 1024;
/** The least a join buffer is made (one read's worth and the slack): few regrowths. */
const MIN_JOIN = 1024 * 1024 + SLACK;

export interface JuteStreamOptions {
  /** Keep an Adler-32 of every consumed byte ({@link JuteStream.checksum}). */
  checksum?: boolean;
  /**
   * The caller lets go of what a record's parse returned before it reads the next one (a replay
   * hashes a node's data and drops it). Then records spanning chunks are joined in one buffer the
   * stream reuses (no allocation per join, no page faults), and the source may reuse a chunk's
   * buffer once the next chunk is pulled (the stream never holds a view of a chunk past that).
   * Without it, views stay valid for good: each join is a fresh buffer, and the source's chunks
   * must never be reused.
   */
  reuse?: boolean;
}

/** Reads jute records one after the other from `source`. */
export class JuteStream {
  /** The bytes at hand, unread: a view of the last chunk pulled, or of the join buffer. */
  private window: Buffer = EMPTY;
  /** Whether `window` is a view of `joined`. */
  private inJoined = false;
  /** Records spanning chunks are gathered here (reused only with the `reuse` option). */
  private joined: Buffer = EMPTY;
  /** Stream offset of `window[0]`. */
  private base = 0;
  /** The rest of the last chunk pulled, whose start was copied into the join buffer: it follows `window`. */
  private held?: Buffer;
  private ended = false;
  private readonly reuse: boolean;
  private readonly iterator: AsyncIterator<Buffer>;
  /** Adler-32 of every consumed byte, when asked for. */
  readonly checksum?: Adler32;

  constructor(source: AsyncIterable<Buffer>, options: JuteStreamOptions = {}) {
    this.iterator = source[Symbol.asyncIterator]();
    if (options.checksum) this.checksum = new Adler32();
    this.reuse = options.reuse ?? false;
  }

  /** Stream offset of the next unread byte. */
  get offset(): number {
    return this.base;
  }

  /** The next chunk of the source, or undefined at its end. */
  private async pull(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return undefined;
    }
    return Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
  }

  /**
   * Reads until at least `count` bytes are at hand or the stream ends; false when it ended first.
   * A chunk becomes the window as it is; only a record spanning chunks is copied, into the join buffer.
   */
  private async fill(count: number): Promise<boolean> {
    if (this.window.length >= count) return true;
    if (this.window.length === 0) {
      const next = this.held ?? await this.pull();
      this.held = undefined;
      this.inJoined = false;
      if (!next) return false;
      this.window = next;
      if (next.length >= count) return true;
    }
    return this.join(count);
  }

  /**
   * Gathers the window and what follows it into the join buffer, `count` bytes and the slack (no
   * more from the last chunk). The window is copied before any pull: no view of a chunk is held
   * past the pull of the next.
   */
  private async join(count: number): Promise<boolean> {
    const want = count + SLACK;
    let have = this.window.length;
    if (this.reuse && this.inJoined && this.joined.length >= want) {
      const from = this.window.byteOffset - this.joined.byteOffset;
      this.joined.copyWithin(0, from, from + have);
    } else {
      const target = this.reuse && this.joined.length >= want ? this.joined : Buffer.allocUnsafeSlow(Math.max(want, this.reuse ? MIN_JOIN : 0));
      this.window.copy(target, 0);
      this.joined = target;
    }
    this.inJoined = true;
    while (have < count) {
      const next = this.held ?? await this.pull();
      this.held = undefined;
      if (!next) break;
      const take = Math.min(next.length, want - have);
      next.copy(this.joined, have, 0, take);
      have += take;
      if (take < next.length) this.held = next.subarray(take);
    }
    this.window = this.joined.subarray(0, have);
    return have >= count;
  }

  private consume(count: number): void {
    this.checksum?.update(this.window.subarray(0, count));
    this.window = this.window.subarray(count);
    this.base += count;
  }

  /**
   * Parses one record with `parse` and consumes its bytes. What `parse` returns may hold views of
   * the stream's buffers (JuteReader.readBuffer): they stay valid for good, or, with the `reuse`
   * option, until the next read.
   * @throws JuteTruncated when the stream ends inside it; whatever `parse` throws otherwise (nothing consumed)
   */
  async read<T>(parse: (reader: JuteReader) => T): Promise<T> {
    for (;;) {
      const reader = new JuteReader(this.window);
      try {
        const value = parse(reader);
        this.consume(reader.offset);
        return value;
      } catch (error) {
        if (!(error instanceof JuteUnderflow)) throw error;
        if (!(await this.fill(error.needed))) throw new JuteTruncated(this.base, this.window.length);
      }
    }
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** Consumes every byte left, giving them in chunks (for a check of what follows the records). */
  async *rest(): AsyncGenerator<{ offset: number; bytes: Buffer }> {
    for (;;) {
      if (this.window.length === 0 && !(await this.fill(1))) return;
      const bytes = this.window;
      const offset = this.base;
      this.consume(bytes.length);
      yield { offset, bytes };
    }
  }

  /** Stops reading the source (closes the file). */
  async close(): Promise<void> {
    this.ended = true;
    this.held = undefined;
    this.window = EMPTY;
    await this.iterator.return?.();
  }
}
