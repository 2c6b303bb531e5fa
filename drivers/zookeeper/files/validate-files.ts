/**
 * One call that checks a backup's ZooKeeper files as they will be uploaded (a snapshot and the
 * logs after it, each read once, as artifacts): headers, every txn's checksum, the snapshot's
 * checksum, one dbid across the logs, each log starting at the zxid in its name, no missing txn,
 * and, when given, the zxid and digest the backup expects. It reports named checks rather than
 * stopping at the first failure, and the facts of the replay when every file could be read.
 */
import path from 'node:path';
import type { TreeSummary } from '../tree-digest';
import { logsDbid, misnamedLog } from './log-checks';
import { Replay, type ReplayFacts } from './replay';
import { readTxnLog, type TxnLogScan } from './txn-log';
import { compareZxid, formatZxid, parseFileName } from './zxid';

/** One named check. */
export interface FileCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** The checks, and the facts when the snapshot and every log were read whole. */
export interface BackupFilesValidation {
  ok: boolean;
  checks: FileCheck[];
  facts?: ReplayFacts;
}

export interface BackupFiles {
  snapshot: string;
  /** The logs to replay after it, in any order (they are put in zxid order by name). */
  logs: readonly string[];
  /** What the backup recorded, when it is checked against the files. */
  expected?: {
    lastZxid?: bigint;
    summary?: TreeSummary;
  };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Validates a backup's files.
 * @example
 * const { ok, checks, facts } = await validateBackupFiles({ snapshot: 'spool/snapshot.1d', logs: ['spool/log.1f'] });
 */
export async function validateBackupFiles(files: BackupFiles): Promise<BackupFilesValidation> {
  const checks: FileCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const replay = new Replay();
  let whole = true;

  try {
    const scan = await replay.loadSnapshot(files.snapshot);
    const digest = scan.zxidDigest ? `, zxid digest at ${formatZxid(scan.zxidDigest.zxid)}` : '';
    check('snapshot', true, `${path.basename(files.snapshot)}: ${scan.nodeCount} nodes, ${scan.sessionCount} sessions, checksum ${scan.checksum} holds${digest}`);
  } catch (error) {
    whole = false;
    check('snapshot', false, message(error));
  }

  const logs = files.logs.map((file) => ({ file, zxid: parseFileName(path.basename(file))?.zxid }));
  const unnamed = logs.filter((log) => log.zxid === undefined || parseFileName(path.basename(log.file))?.kind !== 'log');
  if (unnamed.length > 0) {
    whole = false;
    check('log-names', false, `not named log.<zxid>: ${unnamed.map((log) => log.file).join(', ')}`);
  }
  const named = logs.filter((log) => !unnamed.includes(log)).sort((a, b) => compareZxid(a.zxid!, b.zxid!));
  const misnamed: string[] = [];
  let gap: string | undefined;
  const scans: TxnLogScan[] = [];
  for (const log of named) {
    const name = `log:${path.basename(log.file)}`;
    let scan: TxnLogScan;
    try {
      // Once the chain is broken (no snapshot, a bad log, a gap), each later log is still read for its own checks.
      scan = whole ? await replay.applyLog(log.file, 'artifact') : await readTxnLog(log.file, { mode: 'artifact' });
    } catch (error) {
      whole = false;
      if ((error as { code?: unknown }).code !== 'ZK_LOG_GAP') {
        check(name, false, message(error));
        continue;
      }
      gap = message(error);
      try {
        scan = await readTxnLog(log.file, { mode: 'artifact' });
      } catch (again) {
        check(name, false, message(again));
        continue;
      }
    }
    scans.push(scan);
    const range = scan.firstZxid === undefined ? 'no txn' : `${scan.txnCount} txns ${formatZxid(scan.firstZxid)}..${formatZxid(scan.lastZxid!)}`;
    check(name, true, `${range}, every checksum holds, ends with ${scan.end}`);
    const problem = misnamedLog(scan);
    if (problem) misnamed.push(problem);
  }
  if (unnamed.length === 0) check('log-names', misnamed.length === 0, misnamed.length === 0 ? 'each log starts at the zxid in its name' : misnamed.join('; '));

  const dbid = logsDbid(scans);
  check('logs-dbid', dbid.ok, dbid.detail);
  check('continuity', gap === undefined && whole, gap ?? (whole ? 'no txn is missing from the snapshot to the end of the logs' : 'not established: a file could not be read'));

  let facts: ReplayFacts | undefined;
  if (whole) {
    facts = await replay.facts();
    const expected = files.expected;
    if (expected?.lastZxid !== undefined) {
      check('last-zxid', facts.lastZxid === expected.lastZxid, `the files end at ${formatZxid(facts.lastZxid)}; the backup expects ${formatZxid(expected.lastZxid)}`);
    }
    const compare = (name: string, want: TreeSummary | undefined, have: TreeSummary) => {
      if (!want) return;
      const same = want.digest === have.digest && want.nodeCount === have.nodeCount;
      check(name, same, `the files hold ${have.nodeCount} nodes, digest ${have.digest}; the backup expects ${want.nodeCount}, ${want.digest}`);
    };
    compare('tree-digest', expected?.summary, facts.summary);
  }
  return { ok: checks.every((c) => c.ok), checks, facts };
}

