/**
 * The host-local backup's one read of each file. The member's files are chosen as the server
 * would choose them (files/select-files.ts), and the read that chooses each one also
 * - copies it where the snapshot's artifacts go (the store, or the spool: an ArtifactSink, which
 *   hashes it with sha256 as it writes),
 * - checks it as ZooKeeper would (header; a snapshot's checksum, each txn's Adler-32),
 * - loads the snapshot into a tree and replays the logs over it (files/replay.ts): the facts.
 *
 * A snapshot flows on as it is read; when its checksum at the end fails (still being written),
 * its copy is discarded and the next older one is read. A log is copied up to its last whole,
 * checksummed txn (the server may be appending to it; logs are padded with zeros past their end).
 * So the facts are those of exactly the bytes written and hashed.
 */
import path from 'node:path';
import type { ArtifactSink } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { ByteTap } from '../files/byte-tap';
import { Replay } from '../files/replay';
import { selectFiles, type SelectedFiles } from '../files/select-files';
import type { SnapshotScan } from '../files/snapshot-file';
import type { TxnLogScan } from '../files/txn-log';

/** Artifact folders: snapshots go back to dataDir, logs to dataLogDir. */
export const SNAPSHOT_FOLDER = 'snapshot';
export const LOG_FOLDER = 'txnlog';

/** The copies, in the order read (snapshot first), and the replay of exactly their bytes. */
export interface CopiedFiles {
  artifacts: ArtifactRef[];
  replay: Replay;
}

/**
 * Writes artifact `name` through `sink` from what a tap on `file` passes on while `read` reads the tap's chunks.
 * @returns the artifact (its sha256 and size as written) and what `read` returned
 * @throws what `read` throws (a failed write's error among them: the tap stops the read with it; the copy is discarded), else what ending the write throws
 */
async function copyWhileReading<T>(sink: ArtifactSink, name: string, file: string, options: { confirmAll?: boolean }, read: (tap: ByteTap) => Promise<T>): Promise<{ artifact: ArtifactRef; value: T }> {
  const writer = await sink.open(name);
  const tap = new ByteTap(file, writer, options);
  let value: T;
  try {
    value = await read(tap);
    await tap.end();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { artifact: await writer.end(), value };
}

/** Copies a snapshot as it is read and loads it into `replay`. */
async function copySnapshot(sink: ArtifactSink, replay: Replay, file: string): Promise<{ artifact: ArtifactRef; scan: SnapshotScan }> {
  const { artifact, value } = await copyWhileReading(sink, `${SNAPSHOT_FOLDER}/${path.basename(file)}`, file, { confirmAll: true }, (tap) => replay.loadSnapshot(file, { chunks: tap.chunks() }));
  return { artifact, scan: value };
}

/** Replays a log over `replay` as it is read (live: up to its last whole txn), copying what it replayed. */
export async function copyLog(sink: ArtifactSink, replay: Replay, file: string): Promise<{ artifact: ArtifactRef; scan: TxnLogScan }> {
  const { artifact, value } = await copyWhileReading(sink, `${LOG_FOLDER}/${path.basename(file)}`, file, {}, (tap) => replay.applyLog(file, 'live', { chunks: tap.chunks(), onValid: (length) => tap.confirm(length) }));
  return { artifact, scan: value };
}

/**
 * Chooses the files of the member's directories (the newest whole snapshot, the logs after it),
 * copying and replaying each in the read that chooses it.
 * @throws the choice's errors (`ZK_NO_SNAPSHOT`, `ZK_LOG_GAP`, a damaged log), the sink's
 */
export async function copyDataDirFiles(sink: ArtifactSink, dirs: { snapshotDir: string; logDir: string }): Promise<CopiedFiles & { selected: SelectedFiles }> {
  let replay = new Replay();
  let snapshot: ArtifactRef | undefined;
  const logs: ArtifactRef[] = [];
  const selected = await selectFiles({
    snapDir: dirs.snapshotDir,
    logDir: dirs.logDir,
    mode: 'live',
    readers: {
      async snapshot(file) {
        replay = new Replay(); // a snapshot that was not whole leaves its nodes behind
        const copied = await copySnapshot(sink, replay, file);
        snapshot = copied.artifact;
        return copied.scan;
      },
      async log(file) {
        const copied = await copyLog(sink, replay, file);
        logs.push(copied.artifact);
        return copied.scan;
      },
    },
  });
  return { artifacts: [snapshot!, ...logs], replay, selected };
}
