/**
 * What a backup's logs must say of each other besides their txns, checked on the logs as they
 * are read: each starts at the zxid in its name (ZooKeeper names a log after its first txn), and
 * all are of one database (one dbid).
 */
import path from 'node:path';
import type { TxnLogScan } from './txn-log';
import { formatZxid, parseFileName } from './zxid';

/** `log.<zxid> starts at <zxid>` when a log's first txn is not the zxid in its name; undefined otherwise (or when it holds none). */
export function misnamedLog(scan: Pick<TxnLogScan, 'file' | 'firstZxid'>): string | undefined {
  const name = path.basename(scan.file);
  if (scan.firstZxid === undefined || scan.firstZxid === parseFileName(name)?.zxid) return undefined;
  return `${name} starts at ${formatZxid(scan.firstZxid)}`;
}

/** Whether the logs name one database, and a sentence saying so or which ones they name. */
export function logsDbid(scans: readonly Pick<TxnLogScan, 'header'>[]): { ok: boolean; detail: string } {
  const dbids = new Set(scans.map((scan) => scan.header.dbid));
  return dbids.size <= 1
    ? { ok: true, detail: `one dbid (${[...dbids][0] ?? 'no logs'})` }
    : { ok: false, detail: `the logs name different databases: ${[...dbids].join(', ')}` };
}
