/**
 * The tree at the end of a snapshot and its logs, as a server restarted on them would hold it
 * (FileTxnSnapLog.restore): the snapshot loaded, then every txn after the snapshot's zxid applied
 * in order (DataTree.processTxn; data-tree.ts). Memory is proportional to the tree, as the
 * server's is; the files are streamed, each read once.
 */
import type { TreeSummary } from '../tree-digest';
import { DataTree } from './data-tree';
import { corruptSnapshot, logGap } from './file-errors';
import { selectFiles } from './select-files';
import { readSnapshot, type ReadSnapshotOptions, type SnapshotScan } from './snapshot-file';
import { readTxnLog, type ReadTxnLogOptions, type TxnLogMode, type TxnLogScan } from './txn-log';
import { epochOf, formatZxid, isNextZxid } from './zxid';

/** What a replay establishes about the files. */
export interface ReplayFacts {
  /** The digest of the tree's non-ephemeral nodes outside /zookeeper, the root included (tree-digest.ts). */
  summary: TreeSummary;
  /** The last txn applied, or the snapshot's zxid when none was. */
  lastZxid: bigint;
  snapshotZxid: bigint;
  /** The epochs of the snapshot's zxid and of every txn applied, ascending. */
  epochs: number[];
  /** dbid of the snapshot's header (ZooKeeper 3.8 writes -1) and of the logs' (it writes 0); logs undefined without logs. */
  dbid: { snapshot: bigint; logs?: bigint };
  /** Txns applied (those after the snapshot's zxid). */
  txnsApplied: number;
  /** The sessions that own ephemeral nodes at the end. */
  ephemeralSessions: bigint[];
  /** Nodes in the tree, ephemeral and /zookeeper ones included (srvr's "Node count" is one more: it counts the root twice). */
  nodeCount: number;
}

/** Facts, and what reading each file found. */
export interface ReplayResult extends ReplayFacts {
  snapshot: SnapshotScan;
  logs: TxnLogScan[];
}

/** A replay in steps: one snapshot, then logs oldest first; for callers that check file by file (validate-files.ts). */
export class Replay {
  private readonly tree = new DataTree();
  private readonly epochs = new Set<number>();
  private lastZxid = 0n;
  private lastIn = '';
  private txnsApplied = 0;
  snapshot?: SnapshotScan;
  readonly logs: TxnLogScan[] = [];

  /** Loads the snapshot (first, once). @throws the snapshot reader's errors; `ZK_CORRUPT_SNAPSHOT` for a node without its parent */
  async loadSnapshot(file: string, read: Pick<ReadSnapshotOptions, 'chunks'> = {}): Promise<SnapshotScan> {
    if (this.snapshot) throw new Error('a replay loads one snapshot');
    this.snapshot = await readSnapshot(file, {
      ...read,
      reuse: true, // each node's data is hashed and let go
      onNode: (node) => {
        if (!this.tree.addSnapshotNode(node.path, { data: node.data, acl: node.acl, ephemeralOwner: node.stat.ephemeralOwner })) {
          throw corruptSnapshot(file, `node ${node.path} comes without its parent`);
        }
      },
    });
    this.lastZxid = this.snapshot.zxid;
    this.lastIn = file;
    this.epochs.add(epochOf(this.snapshot.zxid));
    return this.snapshot;
  }

  /**
   * Applies the txns of one log after those already applied; txns at or before them are passed over.
   * @throws PermanentError `ZK_LOG_GAP` when a txn does not follow the one before it; the log reader's errors
   */
  async applyLog(file: string, mode: TxnLogMode, read: Pick<ReadTxnLogOptions, 'chunks' | 'onValid'> = {}): Promise<TxnLogScan> {
    if (!this.snapshot) throw new Error('load the snapshot before the logs');
    const scan = await readTxnLog(file, {
      ...read,
      reuse: true, // each txn is applied (its data hashed) and let go
      mode,
      onTxn: (entry) => {
        const zxid = entry.header.zxid;
        if (zxid <= this.lastZxid) return;
        if (!isNextZxid(this.lastZxid, zxid)) {
          throw logGap(`ZooKeeper txns are missing between ${formatZxid(this.lastZxid)} (in ${this.lastIn}) and ${formatZxid(zxid)} (in ${file} at byte ${entry.offset})`);
        }
        this.tree.apply(entry);
        this.lastZxid = zxid;
        this.lastIn = file;
        this.txnsApplied += 1;
        this.epochs.add(epochOf(zxid));
      },
    });
    this.logs.push(scan);
    return scan;
  }

  /** The facts so far (the tree is walked once per call). */
  async facts(): Promise<ReplayFacts> {
    if (!this.snapshot) throw new Error('nothing replayed');
    return {
      summary: await this.tree.summary(),
      lastZxid: this.lastZxid,
      snapshotZxid: this.snapshot.zxid,
      epochs: [...this.epochs].sort((a, b) => a - b),
      dbid: { snapshot: this.snapshot.header.dbid, logs: this.logs[0]?.header.dbid },
      txnsApplied: this.txnsApplied,
      ephemeralSessions: this.tree.ephemeralSessions(),
      nodeCount: this.tree.nodes.size,
    };
  }
}

/**
 * Loads `snapshot` and applies the txns of `logs` (oldest first) after its zxid.
 * @param files.mode how to read the logs: `artifact` (default) or `live` (the newest may be being written)
 * @throws PermanentError `ZK_LOG_GAP` when a txn does not follow the one before it, and the readers' errors
 * @example
 * const { summary, lastZxid } = await replayFiles({ snapshot, logs });
 */
export async function replayFiles(files: { snapshot: string; logs: readonly string[]; mode?: TxnLogMode }): Promise<ReplayResult> {
  const replay = new Replay();
  await replay.loadSnapshot(files.snapshot);
  for (const file of files.logs) await replay.applyLog(file, files.mode ?? 'artifact');
  return { ...(await replay.facts()), snapshot: replay.snapshot!, logs: replay.logs };
}

/**
 * The tree of a server's directories, live: {@link selectFiles} with readers that replay each
 * file as it is read (one read of each). The result holds what the logs held when each was read:
 * to compare with the server, note its zxid after the replay and compare where they agree, or
 * stop writes.
 */
export async function replayDirectories(options: { snapDir: string; logDir?: string; mode?: TxnLogMode }): Promise<ReplayResult & { skippedSnapshots: { file: string; reason: string }[] }> {
  let replay = new Replay();
  const selected = await selectFiles({
    ...options,
    readers: {
      snapshot(file) {
        replay = new Replay(); // a snapshot that was not whole leaves its nodes behind
        return replay.loadSnapshot(file);
      },
      log: (file, mode) => replay.applyLog(file, mode),
    },
  });
  return { ...(await replay.facts()), snapshot: replay.snapshot!, logs: replay.logs, skippedSnapshots: selected.skippedSnapshots };
}
