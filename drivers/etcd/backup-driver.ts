/**
 * Backup side of the etcd driver: a Maintenance snapshot streamed to the spool with its sha256
 * trailer checked on the way, its revision read back with `snapshot status`, and a kv digest taken
 * from the live cluster at exactly that revision, so a restore can be proven byte-for-byte equal
 * even though writes continued during the backup.
 */
import { mkdir, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Etcd3, ISnapshotResponse } from 'etcd3';
import { PermanentError, TransientError } from '../../core/errors';
import { SpoolBackupDriver } from '../../core/driver/spool-backup-driver';
import { verifyArtifact } from '../../core/driver/artifact-sink';
import { writeArtifact } from '../../core/driver/spool';
import { resolveInside } from '../../core/io/resolve-inside';
import type { ArtifactRef, BackupContext, ResumeVerdict, SnapshotRef, SnapshotTaken, ValidationCheck, ValidationReport } from '../../core/driver/types';
import type { Logger } from '../../core/logger';
import { connectFirstAvailable, idHex } from './client';
import { etcdEndpoint, type EtcdConfig } from './config';
import { mapEtcdError } from './errors';
import { detectEtcdTool, snapshotStatus, type EtcdTool } from './etcd-tools';
import { computeKvDigest } from './kv-digest';
import { SnapshotTrailerCheck, verifySnapshotFile } from './snapshot-trailer';
import { etcdFactsSchema, etcdRecord } from './records';

/** Name of the one artifact of an etcd backup. */
export const SNAPSHOT_FILE = 'snapshot.db';

/**
 * The artifacts an etcd node's record names (the plugin's `recordSchemas.artifactsNamed`): its facts
 * name no artifact, and every backup writes the one {@link SNAPSHOT_FILE} a restore needs. None for
 * facts that do not parse (checking the record says why).
 */
export function artifactsNamedBy(record: { facts: unknown }): string[] {
  return etcdFactsSchema.safeParse(record.facts).success ? [SNAPSHOT_FILE] : [];
}

/** Engine name, as in the manifest. */
export const ENGINE = 'etcd';

/** Options for both etcd drivers. */
export interface EtcdDriverOptions {
  /** The snapshot tool; detected on first use (etcdutl, else etcdctl) when not given. */
  tool?: EtcdTool;
}

/** Turns the gRPC snapshot stream into a byte stream; destroying it cancels the call. */
function snapshotBytes(opened: SnapshotCall, signal?: AbortSignal): Readable {
  const grpc = opened.stream as AsyncIterable<ISnapshotResponse> & { cancel?: () => void };
  const readable = Readable.from((async function* blobs() {
    for await (const message of grpc) {
      if (message.blob && message.blob.length > 0) yield message.blob;
    }
    // A refused call (no credentials: "user name is empty") may end its messages before its error
    // arrives: judge the stream by the call's status, not by its (empty) bytes.
    const status = await opened.status;
    if (status && status.code !== 0) throw Object.assign(new Error(`${status.code} ${status.details}`), { code: status.code });
  })(), { objectMode: false });
  readable.once('close', () => grpc.cancel?.());
  if (signal) {
    const abort = () => readable.destroy(signal.reason instanceof Error ? signal.reason : new Error('backup aborted'));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  }
  return readable;
}

/**
 * The revision the snapshot represents. `snapshot status` reports the highest revision in the
 * snapshot's key bucket; that is the store's revision unless compaction removed the newest entries
 * (tombstones of deleted keys). Then, if nothing was written while the snapshot was taken, the
 * member's revision just before and after the snapshot is exact.
 */
export function snapshotRevision(statusRevision: number, revisionBefore: number, revisionAfter: number): number {
  if (statusRevision >= revisionBefore) return statusRevision;
  if (revisionBefore === revisionAfter) return revisionBefore;
  throw new TransientError(
    `cannot tell which revision the snapshot holds: its newest entry is revision ${statusRevision} (older entries compacted) and the cluster moved from ${revisionBefore} to ${revisionAfter} meanwhile; retry`,
    { code: 'SNAPSHOT_REVISION_UNKNOWN', engine: ENGINE },
  );
}

/** How a gRPC call ended (grpc-js `status` event). */
interface CallStatus {
  code: number;
  details: string;
}

/** The snapshot call: its message stream and, when made through the pool, how it ended. */
interface SnapshotCall {
  stream: unknown;
  status?: Promise<CallStatus>;
}

/** The parts of etcd3's (protected) connection pool {@link openSnapshotStream} uses. */
interface SnapshotPool {
  /** `metadata` is a grpc-js Metadata carrying the auth token. */
  withConnection<T>(service: 'Maintenance', fn: (args: { resource: unknown; client: unknown; metadata: unknown }) => T): Promise<T>;
  markFailed(resource: unknown, error: Error): void;
}

/**
 * Opens the Maintenance snapshot stream. etcd3 1.1's `maintenance.snapshot()` passes its call
 * metadata where gRPC expects the request, so the auth token is never sent and a cluster with auth
 * enabled answers "user name is empty". This makes the same call through the client's connection
 * pool with the arguments in gRPC's order (request, metadata, options); without a pool (another
 * etcd3 version) it falls back to the library call.
 */
async function openSnapshotStream(client: Etcd3): Promise<SnapshotCall> {
  const pool = (client as unknown as { pool?: SnapshotPool }).pool;
  if (!pool || typeof pool.withConnection !== 'function') return { stream: await client.maintenance.snapshot() };
  return pool.withConnection('Maintenance', ({ resource, client: grpcClient, metadata }) => {
    const call = (grpcClient as { snapshot(request: object, metadata: unknown, options: object): NodeJS.EventEmitter })
      .snapshot({}, metadata, {});
    call.on('error', (error: Error) => pool.markFailed(resource, error));
    // gRPC emits 'status' once per call, after its last message, OK or not: listen from the start.
    const status = new Promise<CallStatus>((resolve) => call.once('status', resolve));
    return { stream: call, status };
  });
}

/** Streams a Maintenance snapshot into `spoolDir/snapshot.db`, checking etcd's sha256 trailer on the way. */
async function spoolSnapshot(client: Etcd3, spoolDir: string, signal?: AbortSignal): Promise<{ artifact: ArtifactRef; trailerSha256: string }> {
  const stream = await openSnapshotStream(client);
  const check = new SnapshotTrailerCheck('stream from the Maintenance API');
  const artifact = await writeArtifact(spoolDir, SNAPSHOT_FILE, snapshotBytes(stream, signal), check);
  if (!check.result) throw new Error('snapshot trailer check finished without a result');
  return { artifact, trailerSha256: check.result.trailerSha256 };
}

function rethrow(error: unknown): never {
  throw mapEtcdError(error) ?? error;
}

/**
 * etcd backups: one consistent snapshot of the whole key space (all keys, leases, auth, membership)
 * from one member, recorded with its revision and a kv digest. Upload and cleanup come from
 * {@link SpoolBackupDriver}.
 */
export class EtcdBackupDriver extends SpoolBackupDriver<EtcdConfig> {
  private tool?: EtcdTool;

  constructor(options: EtcdDriverOptions = {}) {
    super();
    this.tool = options.tool;
  }

  private snapshotTool(): EtcdTool {
    this.tool ??= detectEtcdTool();
    return this.tool;
  }

  /** The cluster's client URLs: what the circuit breaker protects. */
  endpoint(config: EtcdConfig): string {
    return etcdEndpoint(config);
  }

  /**
   * Takes the snapshot. Idempotent: the spool directory is wiped first.
   * @throws TransientError `ETCD_UNAVAILABLE` when no endpoint answers (or the stream breaks),
   *   `ETCD_COMPACTED` when the revision was compacted before the digest was read (a retry takes a
   *   newer snapshot); PermanentError `AUTH_FAILED`, `SNAPSHOT_CORRUPT`.
   */
  async createSnapshot(ctx: BackupContext<EtcdConfig>): Promise<SnapshotTaken> {
    const { config, logger } = ctx;
    await rm(ctx.spoolDir, { recursive: true, force: true });
    await mkdir(ctx.spoolDir, { recursive: true });
    const tool = this.snapshotTool();
    const connection = await connectFirstAvailable(config.endpoints, {
      username: config.username, password: config.password, dialTimeoutMs: config.dialTimeoutMs,
    }, logger);
    const { client, endpoint, status: before } = connection;
    try {
      logger.info('etcd snapshot: streaming', { endpoint, revision: before.header.revision, dbSize: before.dbSize });
      const { artifact, trailerSha256 } = await spoolSnapshot(client, ctx.spoolDir, ctx.signal).catch(rethrow);
      const after = await client.maintenance.status().catch(rethrow);
      const file = resolveInside(ctx.spoolDir, SNAPSHOT_FILE);
      const status = await snapshotStatus(file, tool);
      const revision = snapshotRevision(status.revision, Number(before.header.revision), Number(after.header.revision));
      logger.info('etcd snapshot: spooled; computing kv digest', { revision, size: artifact.size });
      const digest = await this.digestAt(client, revision, logger, ctx.signal);
      return {
        artifacts: [artifact],
        consistency: {
          revision,
          clusterId: idHex(before.header.cluster_id),
          memberId: idHex(before.header.member_id),
          etcdVersion: before.version,
          endpoint,
          raftTerm: Number(after.header.raft_term),
        },
        facts: {
          keyCount: digest.keyCount,
          kvDigest: digest.digest,
          snapshotRevision: status.revision,
          snapshotHash: status.hash,
          snapshotTotalKey: status.totalKey,
          snapshotTotalSize: status.totalSize,
          trailerSha256,
        },
      };
    } finally {
      client.close();
    }
  }

  /**
   * A completed snapshot is a file in the spool: a later process re-checks it (sha256 and etcd's
   * trailer) and uploads it from the last acknowledged part. An interrupted one cannot be continued.
   */
  resumeVerdict(_config: EtcdConfig, snapshot: SnapshotRef | undefined): ResumeVerdict {
    return snapshot
      ? { resumable: true, reason: `the spooled ${SNAPSHOT_FILE} is complete: it is re-checked (sha256 and etcd's trailer) and uploaded from the last acknowledged part` }
      : { resumable: false, reason: 'etcd streams a snapshot over one Maintenance call, which ended with the killed run: a new snapshot is needed' };
  }

  private async digestAt(client: Etcd3, revision: number, logger: Logger, signal?: AbortSignal) {
    try {
      return await computeKvDigest(client, revision, { signal });
    } catch (error) {
      const mapped = mapEtcdError(error);
      if (mapped?.code === 'ETCD_COMPACTED') {
        // The live cluster compacted past the snapshot's revision while we read it: a new snapshot will be newer.
        logger.warn('etcd snapshot revision compacted during the kv digest', { revision });
        throw new TransientError(
          `revision ${revision} of the snapshot was compacted before its kv digest could be read; a retry takes a newer snapshot`,
          { code: 'ETCD_COMPACTED', engine: ENGINE, cause: error },
        );
      }
      throw mapped ?? error;
    }
  }

  /**
   * Checks the spooled snapshot: sha256 of the artifact, etcd's trailer, `snapshot status` readable,
   * and the same revision and hash as recorded at snapshot time. A failed check gives `ok: false`;
   * only I/O errors and a missing tool throw.
   */
  async validateSnapshot(_ctx: BackupContext<EtcdConfig>, snapshot: SnapshotRef): Promise<ValidationReport> {
    const checks: ValidationCheck[] = [];
    const artifact = snapshot.artifacts.find((a) => a.name === SNAPSHOT_FILE);
    checks.push({
      name: 'artifacts',
      ok: artifact !== undefined && snapshot.artifacts.length === 1,
      detail: `expected exactly one artifact ${SNAPSHOT_FILE}, found [${snapshot.artifacts.map((a) => a.name).join(', ')}]`,
    });
    if (!artifact) return { ok: false, checks };

    checks.push(await check('artifact-sha256', async () => {
      await verifyArtifact(snapshot.spoolDir, artifact);
      return `${artifact.size} bytes, sha256 ${artifact.sha256}`;
    }, ['CHECKSUM_MISMATCH', 'ARTIFACT_MISSING']));

    const file = resolveInside(snapshot.spoolDir, SNAPSHOT_FILE);
    checks.push(await check('snapshot-trailer', async () => {
      const result = await verifySnapshotFile(file);
      return `sha256 trailer ${result.trailerSha256} matches`;
    }, ['SNAPSHOT_CORRUPT'], ['ENOENT']));

    let statusRevision: number | undefined;
    let statusHash: number | undefined;
    checks.push(await check('snapshot-status', async () => {
      const status = await snapshotStatus(file, this.snapshotTool());
      statusRevision = status.revision;
      statusHash = status.hash;
      return `revision ${status.revision}, ${status.totalKey} entries, ${status.totalSize} bytes`;
    }, ['SNAPSHOT_CORRUPT', 'ETCD_TOOL_FAILED']));

    const { consistency, facts } = etcdRecord(snapshot);
    const recordedRevision = facts.snapshotRevision;
    checks.push({
      name: 'revision',
      ok: statusRevision !== undefined && statusRevision === recordedRevision,
      detail: `snapshot status revision ${statusRevision ?? 'unreadable'}, recorded ${recordedRevision} (consistency point ${consistency.revision})`,
    });
    const recordedHash = facts.snapshotHash;
    checks.push({
      name: 'snapshot-hash',
      ok: statusHash !== undefined && statusHash === recordedHash,
      detail: `snapshot status hash ${statusHash ?? 'unreadable'}, recorded ${recordedHash}`,
    });
    return { ok: checks.every((c) => c.ok), checks };
  }
}

/**
 * Runs one check: success → ok, a PermanentError whose code is in `failCodes` (or an error whose
 * errno code is in `failErrnos`) → not ok with its message; anything else is rethrown.
 */
async function check(name: string, run: () => Promise<string>, failCodes: string[], failErrnos: string[] = []): Promise<ValidationCheck> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if ((error instanceof PermanentError && failCodes.includes(error.code)) || (typeof code === 'string' && failErrnos.includes(code))) {
      return { name, ok: false, detail: (error as Error).message };
    }
    throw error;
  }
}
