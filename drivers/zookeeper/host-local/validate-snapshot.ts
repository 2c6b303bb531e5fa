/**
 * The validate step of a host-local backup. createSnapshot read each file once, and that read
 * hashed (sha256) exactly the bytes it wrote and proved them as ZooKeeper would read them:
 * headers, the snapshot's checksum, every txn's Adler-32, no missing txn, the logs' names and
 * dbid, the replay to the recorded zxid and tree digest; it returns nothing otherwise. So this
 * step proves that the stored artifacts are those bytes: each is re-hashed where it was written
 * (spool or store) and must have its recorded size and sha256; and the record must name exactly
 * these files. Whoever reads them later proves them again in full (the restore does, before it
 * touches a member: files/validate-files.ts).
 */
import path from 'node:path';
import { ArtifactReader } from '../../../core/driver/artifact-sink';
import type { ArtifactRef, BackupContext, SnapshotRef, ValidationCheck } from '../../../core/driver/types';
import type { ZooKeeperConfig } from '../config';
import { parseFileName } from '../files/zxid';
import type { ZooKeeperConsistency, ZooKeeperFacts } from '../records';
import { zxidHex } from '../records';
import { LOG_FOLDER, SNAPSHOT_FOLDER } from './copy-files';

type HostLocalConsistency = Extract<ZooKeeperConsistency, { mode: 'host-local' }>;

/** Why the artifacts are not the files the record names (one snapshot of the recorded zxid, the recorded logs), or undefined. */
function recordProblem(artifacts: readonly ArtifactRef[], consistency: HostLocalConsistency, facts: ZooKeeperFacts): string | undefined {
  const names = artifacts.map((a) => a.name);
  const snapshots = names.filter((name) => name.startsWith(`${SNAPSHOT_FOLDER}/`));
  const logs = names.filter((name) => name.startsWith(`${LOG_FOLDER}/`));
  if (snapshots.length !== 1 || snapshots[0] !== facts.snapshotFile) return `the artifacts hold the snapshots ${JSON.stringify(snapshots)}; the record names ${JSON.stringify(facts.snapshotFile)}`;
  const snapshotZxid = parseFileName(path.posix.basename(snapshots[0]))?.zxid;
  if (snapshotZxid === undefined || zxidHex(snapshotZxid) !== consistency.snapshotZxid) return `${snapshots[0]} is not the snapshot at the recorded zxid ${consistency.snapshotZxid}`;
  const recorded = [...(facts.logFiles ?? [])].sort();
  if (JSON.stringify([...logs].sort()) !== JSON.stringify(recorded)) return `the artifacts hold the logs ${JSON.stringify(logs)}; the record names ${JSON.stringify(recorded)}`;
  const stray = names.filter((name) => !snapshots.includes(name) && !logs.includes(name));
  const unnamed = logs.filter((name) => parseFileName(path.posix.basename(name))?.kind !== 'log');
  if (stray.length > 0 || unnamed.length > 0) return `artifacts that are no snapshot or log.<zxid>: ${[...stray, ...unnamed].join(', ')}`;
  return undefined;
}

/**
 * The checks of a host-local snapshot: `artifact-sha256` (every artifact re-hashed where it is,
 * each damaged or missing one named), `record-files`, and `files-proven` (what createSnapshot
 * proved of those bytes, which holds only when both others do).
 */
export async function validateHostLocalSnapshot(ctx: BackupContext<ZooKeeperConfig>, snapshot: SnapshotRef, consistency: HostLocalConsistency, facts: ZooKeeperFacts): Promise<ValidationCheck[]> {
  const damaged = await new ArtifactReader(snapshot.spoolDir, ctx.destination?.store).verifyUnread(snapshot.artifacts);
  const bytes = snapshot.artifacts.reduce((sum, a) => sum + a.size, 0);
  const problem = recordProblem(snapshot.artifacts, consistency, facts);
  const proven = damaged.length === 0 && problem === undefined;
  return [
    { name: 'artifact-sha256', ok: damaged.length === 0, detail: damaged.length > 0 ? damaged.join('; ') : `${snapshot.artifacts.length} artifacts, ${bytes} bytes: each the bytes createSnapshot wrote (size and sha256)` },
    { name: 'record-files', ok: problem === undefined, detail: problem ?? `${facts.snapshotFile} and ${facts.logFiles?.length ?? 0} logs, as recorded` },
    {
      name: 'files-proven',
      ok: proven,
      detail: proven
        ? `read once by createSnapshot as it wrote them, and proved: headers, the snapshot's checksum, every txn's Adler-32, no missing txn, replayed to ${consistency.zxid}: ${facts.nodeCount} nodes, digest ${facts.treeDigest}`
        : 'not established: the stored bytes or the record are not those createSnapshot proved',
    },
  ];
}
