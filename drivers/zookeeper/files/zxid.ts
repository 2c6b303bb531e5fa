/**
 * Zxids, ZooKeeper's transaction ids: 64 bits, the high 32 the leader's epoch, the low 32 a counter
 * within it. They are bigints here and ordered as numbers (never as strings: `log.ff` comes before
 * `log.100`). Snapshot and log files are named after a zxid in hex without a prefix or padding
 * (`snapshot.10000002a`, `log.200000001`; a compressed snapshot adds `.gz` or `.snappy`).
 */

/** The two kinds of file in a `version-2` directory. */
export type ZooKeeperFileKind = 'snapshot' | 'log';

/** A file name taken apart. */
export interface ZooKeeperFileName {
  kind: ZooKeeperFileKind;
  /** The zxid in the name: a snapshot's last applied txn, a log's first txn. */
  zxid: bigint;
  /** `gz` or `snappy` for a compressed snapshot (snapshot.compression.method); absent otherwise. */
  compression?: 'gz' | 'snappy';
}

const NAME = /^(snapshot|log)\.([0-9a-fA-F]{1,16})(?:\.(gz|snappy))?$/;

/**
 * Parses `snapshot.<hex>[.gz|.snappy]` or `log.<hex>`; anything else (`snapshot.tmp`, `acceptedEpoch`,
 * a log with a compression suffix) is undefined.
 * @example parseFileName('log.100000001') // { kind: 'log', zxid: 0x100000001n }
 */
export function parseFileName(name: string): ZooKeeperFileName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const kind = match[1] as ZooKeeperFileKind;
  const compression = match[3] as 'gz' | 'snappy' | undefined;
  if (kind === 'log' && compression) return undefined;
  const zxid = BigInt(`0x${match[2]}`);
  return compression ? { kind, zxid, compression } : { kind, zxid };
}

/** The epoch of a zxid (its high 32 bits). */
export function epochOf(zxid: bigint): number {
  return Number(BigInt.asUintN(64, zxid) >> 32n);
}

/** The counter of a zxid within its epoch (its low 32 bits). */
export function counterOf(zxid: bigint): number {
  return Number(BigInt.asUintN(64, zxid) & 0xffffffffn);
}

/** `0x…` in lower-case hex, as ZooKeeper's logs print zxids. @example formatZxid(4294967298n) // '0x100000002' */
export function formatZxid(zxid: bigint): string {
  return `0x${BigInt.asUintN(64, zxid).toString(16)}`;
}

/** The file name ZooKeeper gives a snapshot or log starting at `zxid` (Util.makeSnapshotName / makeLogName). */
export function fileNameOf(kind: ZooKeeperFileKind, zxid: bigint): string {
  return `${kind}.${BigInt.asUintN(64, zxid).toString(16)}`;
}

/** Sorts zxids (or things with one) in numeric order; a comparator for `Array.prototype.sort`. */
export function compareZxid(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * True when `next` can be the txn right after `previous`: the next counter in the same epoch, or
 * the first txn (counter 1) of a later epoch (a new leader starts its epoch at counter 0 and
 * proposes from 1; the zxid at counter 0 is never a txn).
 */
export function isNextZxid(previous: bigint, next: bigint): boolean {
  if (next === previous + 1n) return true;
  return epochOf(next) > epochOf(previous) && counterOf(next) === 1;
}
