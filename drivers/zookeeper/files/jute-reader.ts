/**
 * Jute, ZooKeeper's binary record format (org.apache.jute.BinaryInputArchive): big-endian ints and
 * longs, a boolean as one byte, a buffer or string as an int length then the bytes (-1 = null), a
 * vector as an int count then the items (-1 = null). {@link JuteReader} reads them from a Buffer;
 * running out of bytes is a {@link JuteUnderflow}, which a stream reader (jute-stream.ts) answers by
 * reading more and trying the record again.
 */
import type { Acl } from '../tree-digest';

/**
 * The reader needed more bytes than it has: `needed` is the end offset (in its buffer) it tried to
 * reach. A signal for the stream reader, not a failure: built without a stack trace (cheap).
 */
export class JuteUnderflow extends Error {
  constructor(readonly needed: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`jute record needs ${needed} bytes`);
    Error.stackTraceLimit = limit;
    this.name = 'JuteUnderflow';
  }
}

/** Bytes that cannot be a jute record (a negative or absurd length): the file is damaged. */
export class JuteFormatError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'JuteFormatError';
  }
}

/**
 * Lengths above this are refused as damage: ZooKeeper's own limit is jute.maxbuffer (1 MiB by
 * default) plus its extra allowance; 64 MiB leaves room for servers configured far above it.
 */
export const MAX_JUTE_LENGTH = 64 * 1024 * 1024;

/** Reads jute primitives from `buffer`, starting at `offset`. */
export class JuteReader {
  constructor(readonly buffer: Buffer, public offset = 0) {}

  /** Bytes left after the current offset. */
  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private take(count: number): number {
    const at = this.offset;
    if (at + count > this.buffer.length) throw new JuteUnderflow(at + count);
    this.offset = at + count;
    return at;
  }

  readByte(): number {
    return this.buffer.readInt8(this.take(1));
  }

  readBool(): boolean {
    return this.buffer.readInt8(this.take(1)) !== 0;
  }

  readInt(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  /** A signed 64-bit long. */
  readLong(): bigint {
    return this.buffer.readBigInt64BE(this.take(8));
  }

  private readLength(what: string): number {
    const at = this.offset;
    const length = this.readInt();
    if (length < -1 || length > MAX_JUTE_LENGTH) throw new JuteFormatError(`unreasonable ${what} length ${length}`, at);
    return length;
  }

  /**
   * A buffer as a view of the source's bytes (no copy: a node's data is up to a megabyte, and is
   * usually hashed and dropped); null for jute's null (-1). The view keeps the source's memory alive.
   */
  readBuffer(): Buffer | null {
    const length = this.readLength('buffer');
    if (length === -1) return null;
    const at = this.take(length);
    return this.buffer.subarray(at, at + length);
  }

  /** A UTF-8 string; null for jute's null (-1). */
  readUstring(): string | null {
    const length = this.readLength('string');
    if (length === -1) return null;
    const at = this.take(length);
    return this.buffer.toString('utf8', at, at + length);
  }

  /** A string that may not be null. */
  readString(what: string): string {
    const at = this.offset;
    const value = this.readUstring();
    if (value === null) throw new JuteFormatError(`${what} is null`, at);
    return value;
  }

  /** A vector of items read by `item`; null for jute's null (-1). */
  readVector<T>(item: (reader: JuteReader) => T): T[] | null {
    const count = this.readLength('vector');
    if (count === -1) return null;
    const items: T[] = [];
    for (let i = 0; i < count; i += 1) items.push(item(this));
    return items;
  }

  /** An `org.apache.zookeeper.data.ACL`: perms, then Id (scheme, id). */
  readAcl(): Acl {
    const perms = this.readInt();
    const scheme = this.readUstring() ?? '';
    const id = this.readUstring() ?? '';
    return { perms, scheme, id };
  }

  /** A vector of ACLs (null read as empty). */
  readAclVector(): Acl[] {
    return this.readVector((r) => r.readAcl()) ?? [];
  }
}
