/**
 * The errors of reading ZooKeeper's files: all permanent (the bytes will not change on a retry),
 * each naming the file and, where it helps, the byte offset.
 */
import { PermanentError } from '../../../core/errors';

const ENGINE = 'zookeeper';

/** A txn log or snapshot that does not start with ZooKeeper's header (magic, version 2, dbid). */
export function badHeader(file: string, reason: string): PermanentError {
  return new PermanentError(`${file} is not a ZooKeeper 3.x data file: ${reason}`, { code: 'ZK_BAD_HEADER', engine: ENGINE });
}

/** A txn log with a torn, damaged or unreadable entry. */
export function corruptLog(file: string, offset: number, reason: string, cause?: unknown): PermanentError {
  return new PermanentError(`ZooKeeper txn log ${file} is corrupt at byte ${offset}: ${reason}`, { code: 'ZK_CORRUPT_LOG', engine: ENGINE, cause });
}

/** A snapshot that is truncated, damaged or fails its checksum. */
export function corruptSnapshot(file: string, reason: string, cause?: unknown): PermanentError {
  return new PermanentError(`ZooKeeper snapshot ${file} is corrupt: ${reason}`, { code: 'ZK_CORRUPT_SNAPSHOT', engine: ENGINE, cause });
}

/** A txn this reader does not know how to replay (a newer server's). */
export function unsupportedTxn(file: string, offset: number, type: number): PermanentError {
  return new PermanentError(`ZooKeeper txn log ${file} holds a txn of type ${type} at byte ${offset}, which this reader does not know`, { code: 'ZK_UNSUPPORTED_TXN', engine: ENGINE });
}

/** A snapshot written with a compression this reader does not read (snappy). */
export function unsupportedCompression(file: string, method: string): PermanentError {
  return new PermanentError(
    `ZooKeeper snapshot ${file} is ${method}-compressed, which this reader does not read: set snapshot.compression.method to gz or leave it unset`,
    { code: 'ZK_UNSUPPORTED_COMPRESSION', engine: ENGINE },
  );
}

/** Logs that do not reach from the snapshot to their end without a missing txn. */
export function logGap(message: string): PermanentError {
  return new PermanentError(message, { code: 'ZK_LOG_GAP', engine: ENGINE });
}

/** Snapshot and logs of different databases (dbid) or nothing to read. */
export function inconsistentFiles(message: string, code = 'ZK_INCONSISTENT_FILES'): PermanentError {
  return new PermanentError(message, { code, engine: ENGINE });
}
