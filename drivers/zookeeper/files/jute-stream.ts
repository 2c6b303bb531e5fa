/**
 * Jute records read from a stream of chunks (a file read stream) with memory bounded by the largest
 * record: a record is parsed synchronously from the bytes at hand, and when they run out
 * ({@link JuteUnderflow}) more are read and the record is parsed again from its start. Bytes are
 * let go once a record is complete; an optional Adler-32 covers every byte consumed.
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
 * too), so that its last fields, or the next small records, need no second copy.
 */
const SLACK = 64 * 1024;

/** Reads jute records one after the other from `source`. */
export class JuteStream {
  private window: Buffer = EMPTY;
  /** Stream offset of `window[0]`. */
  private base = 0;
  /**
   * The rest of a chunk whose start was copied into a joined window: the stream's bytes from
   * `heldOffset` on. The window may end past `heldOffset` (the slack: a copy of held's first bytes).
   */
  private held?: Buffer;
  private heldOffset = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer>;
  /** Adler-32 of every consumed byte, when asked for. */
  readonly checksum?: Adler32;

  constructor(source: AsyncIterable<Buffer>, options: { checksum?: boolean } = {}) {
    this.iterator = source[Symbol.asyncIterator]();
    if (options.checksum) this.checksum = new Adler32();
  }

  /** Stream offset of the next unread byte. */
  get offset(): number {
    return this.base;
  }

  /** The next bytes of the source: what was held back first. */
  private async next(): Promise<Buffer | undefined> {
    const held = this.held;
    if (held) {
      this.held = undefined;
      return held;
    }
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
   * A chunk becomes the window as it is; only a record spanning chunks is copied (once).
   */
  private async fill(count: number): Promise<boolean> {
    if (this.window.length >= count) return true;
    if (this.held) {
      // Past the joined record: go on in the chunk it came from. Else drop the slack: held follows.
      if (this.base >= this.heldOffset) {
        this.window = this.held.subarray(this.base - this.heldOffset);
        this.held = undefined;
      } else {
        this.window = this.window.subarray(0, this.heldOffset - this.base);
      }
      if (this.window.length >= count) return true;
    }
    if (this.window.length === 0) {
      const chunk = await this.next();
      if (!chunk) return false;
      this.window = chunk;
      if (chunk.length >= count) return true;
    }
    return this.join(count);
  }

  /** Joins the window and the next chunks into one buffer of `count` bytes, plus the slack. */
  private async join(count: number): Promise<boolean> {
    const parts = [this.window];
    let have = this.window.length;
    while (have < count) {
      const chunk = await this.next();
      if (!chunk) break;
      const take = Math.min(chunk.length, count - have);
      parts.push(chunk.subarray(0, take));
      have += take;
      if (take < chunk.length) this.held = chunk.subarray(take);
    }
    const enough = have >= count;
    if (enough && !this.held) this.held = await this.next();
    if (this.held) {
      this.heldOffset = this.base + have;
      const slack = this.held.subarray(0, SLACK);
      parts.push(slack);
      have += slack.length;
    }
    this.window = Buffer.concat(parts, have);
    return enough;
  }

  private consume(count: number): void {
    this.checksum?.update(this.window.subarray(0, count));
    this.window = this.window.subarray(count);
    this.base += count;
  }

  /**
   * Parses one record with `parse` and consumes its bytes. What `parse` returns may hold views of
   * the stream's buffers (JuteReader.readBuffer): they stay valid, the buffers are never reused.
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
    await this.iterator.return?.();
  }
}
