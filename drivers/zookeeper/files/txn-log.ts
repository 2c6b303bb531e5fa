/**
 * Reads a ZooKeeper txn log (`log.<zxid>`) from start to end with memory bounded by one txn
 * (FileTxnLog): the file header, then entries of crc (long, Adler-32 of the txn bytes), the txn
 * bytes (an int length then the bytes) and an end-of-record byte `B`. The server preallocates
 * the file with zeros, so a zero length ends the log.
 *
 * Two modes:
 * - `live`: the server may be writing the file. Reading stops at the last complete, checksummed
 *   txn; {@link TxnLogScan.validLength} is the byte just after it, the prefix a copier may take.
 * - `artifact`: a backup's copy. It must end right after a complete txn, or be followed only by
 *   zeros; anything else is PermanentError `ZK_CORRUPT_LOG` naming the file and byte.
 */
import { adler32 } from './adler32';
import { badHeader, corruptLog, unsupportedTxn } from './file-errors';
import { headerProblem, readFileHeader, TXNLOG_MAGIC, type FileHeader } from './file-header';
import { fileChunks } from './file-chunks';
import { JuteFormatError, MAX_JUTE_LENGTH, type JuteReader } from './jute-reader';
import { JuteStream, JuteTruncated } from './jute-stream';
import { parseTxn, UnsupportedTxnType, type Txn } from './txn-records';
import { formatZxid } from './zxid';

export type TxnLogMode = 'live' | 'artifact';

/** One txn as read from a log, with where it sits in the file. */
export interface TxnLogEntry extends Txn {
  /** Byte offset of the entry (its crc). */
  offset: number;
  /** Byte offset just after its end-of-record byte. */
  end: number;
}

/** Why reading a log stopped. */
export type TxnLogEnd =
  /** After the last txn came zeros (preallocation). */
  | 'zero-padding'
  /** The file ended right after the last txn. */
  | 'end-of-file'
  /** Live mode only: an entry not fully written yet (or torn). */
  | 'partial-txn'
  /** Live mode only: an entry whose crc does not match its bytes. */
  | 'bad-checksum';

/** What reading a log found. */
export interface TxnLogScan {
  file: string;
  header: FileHeader;
  txnCount: number;
  firstZxid?: bigint;
  lastZxid?: bigint;
  /** Byte offset just after the last complete txn (the header's end when there is none). */
  validLength: number;
  end: TxnLogEnd;
  /** Live mode: where reading stopped and why, when it was not zeros or the end of the file. */
  stoppedAt?: { offset: number; reason: string };
}

export interface ReadTxnLogOptions {
  mode: TxnLogMode;
  /** Called with each txn in file order; reading waits for a returned promise. Its data are views of the read's buffers. */
  onTxn?: (entry: TxnLogEntry) => void | Promise<void>;
  /** The file's bytes, when they come from elsewhere than `file` (a copy being made: byte-tap.ts). */
  chunks?: AsyncIterable<Buffer>;
  /**
   * `onTxn` lets go of the entry (its data) before it returns: the read then reuses its buffers
   * (JuteStream's `reuse`), and `chunks`, if given, may reuse a chunk's buffer once the next is pulled.
   */
  reuse?: boolean;
  /** Called as {@link TxnLogScan.validLength} grows (after the header, after each whole txn); reading waits for a returned promise. */
  onValid?: (validLength: number) => void | Promise<void>;
}

type RawEntry = { kind: 'zero'; crc: bigint } | { kind: 'entry'; crc: bigint; bytes: Buffer; eor: number };

function readRawEntry(r: JuteReader): RawEntry {
  const crc = r.readLong();
  const lengthAt = r.offset;
  const length = r.readInt();
  if (length === 0) return { kind: 'zero', crc };
  if (length < 0 || length > MAX_JUTE_LENGTH) throw new JuteFormatError(`unreasonable txn length ${length}`, lengthAt);
  const at = r.offset;
  r.offset += length;
  const eor = r.readByte();
  return { kind: 'entry', crc, bytes: r.buffer.subarray(at, at + length), eor };
}

const ZEROS = Buffer.alloc(64 * 1024);

/** The index of the first non-zero byte of `bytes`, or -1 (compared a block at a time: the padding is megabytes). */
function firstNonZero(bytes: Buffer): number {
  for (let at = 0; at < bytes.length; at += ZEROS.length) {
    const block = bytes.subarray(at, at + ZEROS.length);
    if (!block.equals(ZEROS.subarray(0, block.length))) return at + block.findIndex((byte) => byte !== 0);
  }
  return -1;
}

/** True when every byte left in `stream` is zero; the offset of the first non-zero byte otherwise. */
async function onlyZerosLeft(stream: JuteStream): Promise<true | number> {
  for await (const { offset, bytes } of stream.rest()) {
    const at = firstNonZero(bytes);
    if (at >= 0) return offset + at;
  }
  return true;
}

/**
 * Reads the log at `file`, giving each txn to `onTxn`.
 * @throws PermanentError `ZK_BAD_HEADER` (not a txn log), `ZK_CORRUPT_LOG` (artifact mode: a torn
 *   or damaged entry; either mode: checksummed bytes that are not a txn), `ZK_UNSUPPORTED_TXN`
 * @example
 * const scan = await readTxnLog('/data/version-2/log.100000001', { mode: 'live' });
 * // copy scan.validLength bytes: every txn up to scan.lastZxid, complete
 */
export async function readTxnLog(file: string, options: ReadTxnLogOptions): Promise<TxnLogScan> {
  const reuse = options.reuse ?? false;
  const stream = new JuteStream(options.chunks ?? fileChunks(file, { reuse }), { reuse });
  try {
    let header: FileHeader;
    try {
      header = await stream.read(readFileHeader);
    } catch (error) {
      if (error instanceof JuteTruncated) throw badHeader(file, `only ${error.available} bytes, less than a header`);
      throw error;
    }
    const problem = headerProblem(header, TXNLOG_MAGIC);
    if (problem) throw badHeader(file, problem);
    const scan: TxnLogScan = { file, header, txnCount: 0, validLength: stream.offset, end: 'end-of-file' };
    await options.onValid?.(scan.validLength);

    /** Ends the log at the current offset: zeros to the end are a clean end, anything else is the given damage. */
    const stop = async (reason: string, liveEnd: TxnLogEnd, cause?: unknown): Promise<TxnLogScan> => {
      const offset = stream.offset;
      if (options.mode === 'live') {
        if (liveEnd === 'zero-padding') scan.end = liveEnd;
        else Object.assign(scan, { end: liveEnd, stoppedAt: { offset, reason } });
        return scan;
      }
      const zeros = await onlyZerosLeft(stream);
      if (zeros === true) {
        scan.end = 'zero-padding';
        return scan;
      }
      throw corruptLog(file, offset, `${reason} (after txn ${scan.lastZxid === undefined ? 'none' : formatZxid(scan.lastZxid)}; non-zero byte at ${zeros})`, cause);
    };

    for (;;) {
      if (await stream.atEnd()) return scan;
      const offset = stream.offset;
      let raw: RawEntry;
      try {
        raw = await stream.read(readRawEntry);
      } catch (error) {
        if (error instanceof JuteTruncated) return await stop(`the file ends inside an entry (${error.available} bytes of it)`, 'partial-txn', error);
        if (error instanceof JuteFormatError) return await stop(error.message, 'partial-txn', error);
        throw error;
      }
      if (raw.kind === 'zero') {
        if (raw.crc !== 0n) return await stopAt(offset, 'an entry of length 0 with a non-zero crc', 'partial-txn');
        return await stop('data after the zero padding', 'zero-padding');
      }
      const entryEnd = stream.offset;
      if (raw.eor !== 0x42) {
        return await stopAt(offset, `the entry has no end-of-record byte 'B' (found ${raw.eor})`, 'partial-txn');
      }
      if (adler32(raw.bytes) !== BigInt.asUintN(64, raw.crc)) {
        return await stopAt(offset, `crc ${BigInt.asUintN(64, raw.crc)} does not match the entry's ${raw.bytes.length} bytes`, 'bad-checksum');
      }
      let txn: Txn;
      try {
        txn = parseTxn(raw.bytes);
      } catch (error) {
        if (error instanceof UnsupportedTxnType) throw unsupportedTxn(file, offset, error.type);
        throw corruptLog(file, offset, `the entry's checksum holds but its bytes are not a txn: ${(error as Error).message}`, error);
      }
      scan.txnCount += 1;
      scan.firstZxid ??= txn.header.zxid;
      scan.lastZxid = txn.header.zxid;
      scan.validLength = entryEnd;
      await options.onTxn?.({ ...txn, offset, end: entryEnd });
      await options.onValid?.(entryEnd);
    }

    /** An entry read whole but bad: in live mode the log ends before it; an artifact is damaged there. */
    async function stopAt(offset: number, reason: string, liveEnd: TxnLogEnd): Promise<TxnLogScan> {
      if (options.mode === 'live') {
        Object.assign(scan, { end: liveEnd, stoppedAt: { offset, reason } });
        return scan;
      }
      throw corruptLog(file, offset, reason);
    }
  } finally {
    await stream.close();
  }
}
