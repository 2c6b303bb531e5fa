/**
 * Restore side of the etcd driver: the snapshot is downloaded (sha256 re-checked), restored with
 * `snapshot restore` into a fresh data dir as a NEW single-member cluster (new cluster token, new
 * cluster id), started, and then proven equal to the backup by comparing the kv digest at the
 * recorded revision.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../core/errors';
import { assertPortFree, replaceableEntries, type DataDirRestore } from '../../core/host/data-dir-target';
import { isListening } from '../../core/host/ports';
import { markRestoreDone, writeRestoreMarker } from '../../core/host/restore-marker';
import { downloadArtifacts } from '../../core/driver/download';
import type { RestoreCleanup, RestoreProgress } from '../../core/driver/restore-cleanup';
import type {
  PreparedTarget, RestoreContext, RestoreDriver, RestoreResult, TransferOptions, ValidationCheck, ValidationReport,
} from '../../core/driver/types';
import { createEtcdClient, idHex } from './client';
import { clusterTokenFor, type EtcdRestoreTarget } from './config';
import { mapEtcdError } from './errors';
import { detectEtcdTool, snapshotRestore, type EtcdTool } from './etcd-tools';
import { computeKvDigest } from './kv-digest';
import { memberLogFile, memberPidFile, waitForEtcd, type RunningMember } from './member';
import { cleanupEtcdRestore } from './restore-cleanup';
import { restoreMembers } from './restored-member';
import { etcdRecord } from './records';
import { verifySnapshotFile } from './snapshot-trailer';
import { ENGINE, SNAPSHOT_FILE, type EtcdDriverOptions } from './backup-driver';

/** Where something listening on `url` is reached (a wildcard host on loopback, the protocol's default port). */
function urlAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) };
}

/** The data dir restore `ctx` describes (core/host/data-dir-target.ts). */
function dataDirRestore(ctx: RestoreContext<EtcdRestoreTarget>): DataDirRestore {
  return { engine: ENGINE, dataDir: path.resolve(ctx.target.dataDir), backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir, force: ctx.force };
}

/**
 * Restores an etcd backup into a new single-member cluster described by {@link EtcdRestoreTarget}.
 * The restored cluster keeps the backup's revision, keys, leases, users and roles, but gets a new
 * cluster id (from the new cluster token), so it can never join or confuse the original cluster.
 */
export class EtcdRestoreDriver implements RestoreDriver<EtcdRestoreTarget> {
  private tool?: EtcdTool;

  constructor(options: EtcdDriverOptions = {}) {
    this.tool = options.tool;
  }

  private snapshotTool(): EtcdTool {
    this.tool ??= detectEtcdTool();
    return this.tool;
  }

  /** The restored member's client URL: what the circuit breaker protects. */
  endpoint(target: EtcdRestoreTarget): string {
    return target.clientUrl;
  }

  /** A forced restore replaces the data dir. */
  replacedPaths(target: EtcdRestoreTarget): string[] {
    return [path.resolve(target.dataDir)];
  }

  /**
   * Refuses a non-empty data dir (PermanentError `TARGET_NOT_EMPTY`) unless `ctx.force` or it holds
   * this restore's own unfinished work (core/host/data-dir-target.ts); with force it only notes
   * that the dir will be replaced (the restore step replaces it after the download is verified).
   * A member running on the data dir that this restore did not start is refused
   * (`SERVER_NOT_STARTED_BY_RESTORE`) unless the target allows stopping it. When the target is to
   * be started on an empty dir, its client and peer ports must be free (`TARGET_PORT_IN_USE`).
   * Idempotent, and never destructive.
   */
  async prepareTarget(ctx: RestoreContext<EtcdRestoreTarget>): Promise<PreparedTarget> {
    const { target } = ctx;
    const { dataDir } = dataDirRestore(ctx);
    const { entries, own } = await replaceableEntries(dataDirRestore(ctx));
    const replace = entries.length > 0;
    if (replace && !own) {
      // Nothing is removed yet: the restore step replaces the data dir only after the backup has
      // been downloaded and verified, so a corrupt backup never costs the target its data.
      ctx.logger.warn('etcd restore: --force given, the non-empty data dir will be replaced', { dataDir, entries: entries.length });
    }
    await restoreMembers(ctx).stoppable(dataDir);
    await mkdir(path.dirname(dataDir), { recursive: true });
    if (target.start && !replace) {
      await restoreMembers(ctx).stop(dataDir); // our own member from an earlier attempt, if any
      for (const [field, url] of [['clientUrl', target.clientUrl], ['peerUrl', target.peerUrl]]) {
        await assertPortFree(ENGINE, urlAddress(url), `${field} ${url}`, 'choose free clientUrl/peerUrl ports for the restored member');
      }
    }
    return {
      details: {
        dataDir,
        replace,
        name: target.name,
        clientUrl: target.clientUrl,
        peerUrl: target.peerUrl,
        clusterToken: clusterTokenFor(target, ctx.backup.backupId),
        logFile: memberLogFile(dataDir),
        pidFile: memberPidFile(dataDir),
      },
    };
  }

  /**
   * Downloads the snapshot into `ctx.spoolDir`, checks its trailer, runs `snapshot restore` into the
   * data dir with the new cluster token and starts the member when `target.start`. Idempotent: a
   * retry stops the member it started, removes the partial data dir (only one this restore
   * created, recognised by its marker, core/host/restore-marker.ts) and starts over.
   */
  async restore(ctx: RestoreContext<EtcdRestoreTarget>, _prepared: PreparedTarget, transfer: TransferOptions): Promise<RestoreResult> {
    const started = Date.now();
    const { target, backup, logger } = ctx;
    const dataDir = path.resolve(target.dataDir);
    // One snapshot per etcd backup; its name may carry a node prefix (`default/snapshot.db`).
    const snapshots = backup.artifacts.filter((a) => path.posix.basename(a.name) === SNAPSHOT_FILE);
    if (snapshots.length !== 1) {
      throw new PermanentError(
        `backup ${backup.backupId} must have exactly one ${SNAPSHOT_FILE} artifact, has ${snapshots.length} (artifacts: ${backup.artifacts.map((a) => a.name).join(', ') || 'none'})`,
        { code: 'ARTIFACT_MISSING', engine: ENGINE },
      );
    }
    const artifact = snapshots[0];
    const tool = this.snapshotTool();

    await mkdir(ctx.spoolDir, { recursive: true });
    logger.info('etcd restore: downloading snapshot', { key: artifact.key, size: artifact.size });
    const { files, bytes } = await downloadArtifacts([artifact], ctx.spoolDir, transfer);
    const snapshotPath = files[artifact.name];
    await verifySnapshotFile(snapshotPath);

    // Start clean: our member from an earlier attempt (or one the target allows stopping), and the data dir it (or etcdctl) left behind.
    await restoreMembers(ctx).stop(dataDir);
    const { entries, own } = await replaceableEntries(dataDirRestore(ctx), true);
    if (entries.length > 0 && !own) logger.warn('etcd restore: replacing the data dir (--force)', { dataDir });
    // The marker first: from here on, a retry of this restore, and a failed restore's cleanup, know the data dir is its own.
    await writeRestoreMarker(dataDir, dataDirRestore(ctx));
    await rm(dataDir, { recursive: true, force: true });

    const clusterToken = clusterTokenFor(target, backup.backupId);
    logger.info('etcd restore: snapshot restore', { dataDir, name: target.name, clusterToken, tool: tool.flavour });
    await snapshotRestore({
      snapshotPath, name: target.name, dataDir, peerUrl: target.peerUrl, clusterToken,
    }, tool);

    const endpoint: RestoreResult['endpoint'] = {
      clientUrl: target.clientUrl, peerUrl: target.peerUrl, dataDir, name: target.name, clusterToken, started: false,
    };
    if (target.start) {
      const member = await restoreMembers(ctx).start({
        name: target.name, dataDir, clientUrl: target.clientUrl, peerUrl: target.peerUrl, clusterToken,
      });
      logger.info('etcd restore: member started', { clientUrl: target.clientUrl, pid: member.pid, logFile: member.logFile });
      Object.assign(endpoint, { started: true, pid: member.pid, logFile: member.logFile, pidFile: member.pidFile });
    }
    await markRestoreDone(dataDir, dataDirRestore(ctx));
    return { endpoint, bytes, durationMs: Date.now() - started };
  }

  /**
   * After a failed restore: stops the member this restore started and says what the data dir holds
   * (restore-cleanup.ts).
   */
  cleanup(ctx: RestoreContext<EtcdRestoreTarget>, progress: RestoreProgress): Promise<RestoreCleanup> {
    return cleanupEtcdRestore(ctx, progress);
  }

  /**
   * Connects to the restored member (starting it temporarily when the target says `start: false`)
   * and compares it with the backup: a new cluster id, a revision at least the recorded one, and the
   * key count and kv digest at the recorded revision. Mismatches give `ok: false`; an unreachable
   * member throws (TransientError).
   */
  async validateRestore(ctx: RestoreContext<EtcdRestoreTarget>, result: RestoreResult): Promise<ValidationReport> {
    const { target, backup } = ctx;
    const clientUrl = typeof result.endpoint.clientUrl === 'string' ? result.endpoint.clientUrl : target.clientUrl;
    const dataDir = path.resolve(target.dataDir);
    let temporary: RunningMember | undefined;
    if (!target.start && !(await isListening(urlAddress(clientUrl), 500))) {
      // Recorded as this restore's like any member it starts: should the step die here, the
      // failure path's cleanup knows it may stop it.
      temporary = await restoreMembers(ctx).start({
        name: target.name, dataDir, clientUrl, peerUrl: target.peerUrl, clusterToken: clusterTokenFor(target, backup.backupId),
      });
    }
    const client = createEtcdClient(clientUrl, { username: target.username, password: target.password });
    try {
      await waitForEtcd(clientUrl, { timeoutMs: 30_000, logFile: memberLogFile(dataDir), peerUrl: target.peerUrl });
      const status = await client.maintenance.status().catch((error: unknown) => { throw mapEtcdError(error) ?? error; });
      const checks: ValidationCheck[] = [];
      const { consistency, facts } = etcdRecord(backup);
      const recordedRevision = consistency.revision;
      const currentRevision = Number(status.header.revision);
      const clusterId = idHex(status.header.cluster_id);
      checks.push({
        name: 'new-cluster',
        ok: clusterId !== consistency.clusterId,
        detail: `restored cluster id ${clusterId}, source cluster id ${consistency.clusterId}`,
      });
      checks.push({
        name: 'revision',
        ok: Number.isSafeInteger(recordedRevision) && currentRevision >= recordedRevision,
        detail: currentRevision === recordedRevision
          ? `restored revision ${currentRevision} equals the recorded revision`
          : `restored revision ${currentRevision}, recorded ${recordedRevision}${currentRevision > recordedRevision ? ' (written to since the restore)' : ' (older than the backup)'}`,
      });
      let digest: { keyCount: number; digest: string } | undefined;
      let digestError: string | undefined;
      if (currentRevision < recordedRevision) {
        digestError = `the restored cluster is at revision ${currentRevision}, before the recorded revision ${recordedRevision}`;
      } else {
        try {
          digest = await computeKvDigest(client, recordedRevision, { signal: ctx.signal });
        } catch (error) {
          const mapped = mapEtcdError(error);
          if (mapped?.code !== 'ETCD_COMPACTED' && !(error instanceof RangeError)) throw mapped ?? error;
          digestError = mapped?.message ?? (error as Error).message;
        }
      }
      checks.push({
        name: 'key-count',
        ok: digest !== undefined && digest.keyCount === facts.keyCount,
        detail: digest ? `${digest.keyCount} keys at revision ${recordedRevision}, recorded ${facts.keyCount}` : `unreadable: ${digestError}`,
      });
      checks.push({
        name: 'kv-digest',
        ok: digest !== undefined && digest.digest === facts.kvDigest,
        detail: digest ? `digest ${digest.digest}, recorded ${facts.kvDigest}` : `unreadable: ${digestError}`,
      });
      return { ok: checks.every((c) => c.ok), checks };
    } finally {
      client.close();
      if (temporary) await temporary.stop();
    }
  }
}
