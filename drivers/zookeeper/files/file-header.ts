/**
 * The header every txn log and snapshot starts with (zookeeper.jute, org.apache.zookeeper.server.persistence.FileHeader):
 * magic (`ZKLG` or `ZKSN` as a big-endian int), version (2), dbid (a long; ZooKeeper writes 0).
 */
import type { JuteReader } from './jute-reader';

/** `ZKLG`: FileTxnLog.TXNLOG_MAGIC. */
export const TXNLOG_MAGIC = 'ZKLG';
/** `ZKSN`: FileSnap.SNAP_MAGIC. */
export const SNAP_MAGIC = 'ZKSN';
/** FileTxnLog.VERSION and FileSnap.VERSION. */
export const FILE_VERSION = 2;
/** Bytes of the header. */
export const FILE_HEADER_LENGTH = 16;

export interface FileHeader {
  /** The magic as text (`ZKLG`, `ZKSN`, or whatever four bytes were there). */
  magic: string;
  version: number;
  dbid: bigint;
}

export function readFileHeader(r: JuteReader): FileHeader {
  const at = r.offset;
  r.readInt();
  const magic = r.buffer.toString('latin1', at, at + 4);
  return { magic, version: r.readInt(), dbid: r.readLong() };
}

/** Why `header` is not the expected one, or undefined when it is. */
export function headerProblem(header: FileHeader, magic: string): string | undefined {
  if (header.magic !== magic) return `magic ${JSON.stringify(header.magic)} instead of ${JSON.stringify(magic)}`;
  if (header.version !== FILE_VERSION) return `version ${header.version} instead of ${FILE_VERSION}`;
  return undefined;
}
