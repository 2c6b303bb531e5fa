/**
 * Which files of a ZooKeeper data directory a backup needs, as the server itself would choose
 * them at startup (FileSnap.deserialize, FileTxnLog.getLogFiles): the newest snapshot that is
 * whole (a newer one that fails its checksum, e.g. still being written, is skipped and said so),
 * the last log starting at or before the snapshot's zxid, and every later log. The logs must reach
 * from the snapshot to their end without a missing txn.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../../core/errors';
import { inconsistentFiles, logGap } from './file-errors';
import { readSnapshot, type SnapshotScan } from './snapshot-file';
import { readTxnLog, type TxnLogMode, type TxnLogScan } from './txn-log';
import { compareZxid, formatZxid, isNextZxid, parseFileName } from './zxid';

/** A file of a `version-2` directory with the zxid in its name. */
export interface NamedFile {
  file: string;
  zxid: bigint;
}

/** The files a backup takes, and what reading them found. */
export interface SelectedFiles {
  snapshot: SnapshotScan;
  /** Newer snapshots that were not whole, newest first, with why. */
  skippedSnapshots: { file: string; reason: string }[];
  /** The logs to replay from the snapshot, oldest first (logs without a txn included). */
  logs: TxnLogScan[];
  /** The last txn in the logs, or the snapshot's zxid when they hold none after it. */
  lastZxid: bigint;
}

/**
 * The snapshots and logs in a directory, each sorted by zxid (oldest first).
 * @throws PermanentError `ZK_NO_SNAPSHOT` when there is no such directory (a dataDir or dataLogDir that is not the member's)
 */
export async function listZooKeeperFiles(dir: string): Promise<{ snapshots: NamedFile[]; logs: NamedFile[] }> {
  const snapshots: NamedFile[] = [];
  const logs: NamedFile[] = [];
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw error;
    throw inconsistentFiles(`there is no directory ${dir}: is the member's dataDir (or dataLogDir) the one its zoo.cfg names? ZooKeeper keeps its files in its version-2 folder`, 'ZK_NO_SNAPSHOT');
  });
  for (const name of names) {
    const parsed = parseFileName(name);
    if (!parsed) continue;
    (parsed.kind === 'snapshot' ? snapshots : logs).push({ file: path.join(dir, name), zxid: parsed.zxid });
  }
  const byZxid = (a: NamedFile, b: NamedFile) => compareZxid(a.zxid, b.zxid);
  return { snapshots: snapshots.sort(byZxid), logs: logs.sort(byZxid) };
}

/** FileTxnLog.getLogFiles: the last log starting at or before `snapshotZxid` and every later one. */
export function logsFrom(logs: readonly NamedFile[], snapshotZxid: bigint): NamedFile[] {
  let start = 0n;
  for (const log of logs) if (log.zxid <= snapshotZxid && log.zxid > start) start = log.zxid;
  return logs.filter((log) => log.zxid >= start);
}

/**
 * Checks that `logs` (oldest first) continue the snapshot at `snapshotZxid` without a missing txn.
 * @returns the last zxid they reach
 * @throws PermanentError `ZK_LOG_GAP` naming the zxids on either side of the gap and the file
 */
export function checkContinuity(snapshotZxid: bigint, logs: readonly Pick<TxnLogScan, 'file' | 'firstZxid' | 'lastZxid'>[]): bigint {
  let reached = snapshotZxid;
  let reachedIn = 'the snapshot';
  for (const log of logs) {
    if (log.firstZxid === undefined || log.lastZxid === undefined) continue;
    if (log.firstZxid > reached && !isNextZxid(reached, log.firstZxid)) {
      throw logGap(`ZooKeeper txns are missing between ${formatZxid(reached)} (${reachedIn}) and ${formatZxid(log.firstZxid)} (the first txn of ${log.file}): no log holds the txns in between`);
    }
    if (log.lastZxid > reached) {
      reached = log.lastZxid;
      reachedIn = `the end of ${log.file}`;
    }
  }
  return reached;
}

/**
 * How {@link selectFiles} reads each file it considers: by default a scan of it; the backup's
 * readers also copy it and replay it as they read (host-local/copy-files.ts), so that choosing,
 * copying and proving the files is one read of each.
 */
export interface FileReaders {
  /** Reads a snapshot, newest first, until one is whole. @throws a snapshot's own errors ({@link SNAPSHOT_NOT_WHOLE}) when it is not */
  snapshot(file: string): Promise<SnapshotScan>;
  /** Reads a log, oldest first, once the snapshot is chosen. */
  log(file: string, mode: TxnLogMode): Promise<TxnLogScan>;
}

/** The codes of a snapshot file that is not whole (damaged, still being written, not a snapshot): the next older one is taken. */
export const SNAPSHOT_NOT_WHOLE: ReadonlySet<string> = new Set(['ZK_CORRUPT_SNAPSHOT', 'ZK_BAD_HEADER', 'ZK_UNSUPPORTED_COMPRESSION']);

const scanning: FileReaders = {
  snapshot: (file) => readSnapshot(file),
  log: (file, mode) => readTxnLog(file, { mode }),
};

/**
 * Chooses a backup's files from the snapshot directory (dataDir/version-2) and the log directory
 * (dataLogDir/version-2; the same one when the logs are not apart).
 * @param options.mode `live` (default) while the server may write the newest log; `artifact` for copies
 * @param options.readers how each file is read (default: scanned)
 * @throws PermanentError `ZK_NO_SNAPSHOT` when no snapshot is whole, `ZK_LOG_GAP`, and the readers' errors
 * @example
 * const selected = await selectFiles({ snapDir: '/data/version-2', logDir: '/txlog/version-2' });
 */
export async function selectFiles(options: { snapDir: string; logDir?: string; mode?: TxnLogMode; readers?: FileReaders }): Promise<SelectedFiles> {
  const mode = options.mode ?? 'live';
  const readers = options.readers ?? scanning;
  const { snapshots } = await listZooKeeperFiles(options.snapDir);
  const { logs: allLogs } = await listZooKeeperFiles(options.logDir ?? options.snapDir);
  const skippedSnapshots: SelectedFiles['skippedSnapshots'] = [];
  let snapshot: SnapshotScan | undefined;
  for (const candidate of [...snapshots].reverse()) {
    try {
      snapshot = await readers.snapshot(candidate.file);
      break;
    } catch (error) {
      if (!(error instanceof PermanentError && SNAPSHOT_NOT_WHOLE.has(error.code))) throw error;
      skippedSnapshots.push({ file: candidate.file, reason: error.message });
    }
  }
  if (!snapshot) {
    throw inconsistentFiles(`no whole ZooKeeper snapshot in ${options.snapDir}${skippedSnapshots.length ? `: ${skippedSnapshots.map((s) => s.reason).join('; ')}` : ''}`, 'ZK_NO_SNAPSHOT');
  }
  const logs: TxnLogScan[] = [];
  for (const log of logsFrom(allLogs, snapshot.zxid)) logs.push(await readers.log(log.file, mode));
  const lastZxid = checkContinuity(snapshot.zxid, logs);
  return { snapshot, skippedSnapshots, logs, lastZxid };
}
