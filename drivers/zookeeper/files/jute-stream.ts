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

/** Reads jute records one after the other from `source`. */
export class JuteStream {
  private window: Buffer = EMPTY;
  /** Stream offset of `window[0]`. */
  private base = 0;
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

  /** Reads until at least `count` bytes are at hand or the stream ends; false when it ended first. */
  private async fill(count: number): Promise<boolean> {
    if (this.window.length >= count) return true;
    const chunks = [this.window];
    let have = this.window.length;
    while (have < count && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      chunks.push(chunk);
      have += chunk.length;
    }
    this.window = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
    return have >= count;
  }

  private consume(count: number): void {
    this.checksum?.update(this.window.subarray(0, count));
    this.window = this.window.subarray(count);
    this.base += count;
  }

  /**
   * Parses one record with `parse` and consumes its bytes.
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
    await this.iterator.return?.();
  }
}
