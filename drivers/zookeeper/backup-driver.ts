/**
 * Backup side of the ZooKeeper driver: host-local (the snapshot and logs of the member with the
 * highest zxid, on its host; host-local/backup.ts) or logical (a tree walk through the client;
 * logical-backup.ts), chosen by the config's `mode`. Upload and cleanup come from SpoolBackupDriver.
 */
import { SpoolBackupDriver } from '../../core/driver/spool-backup-driver';
import { verifyArtifact } from '../../core/driver/artifact-sink';
import type { BackupContext, NodeRef, SnapshotRef, SnapshotTaken, ValidationCheck, ValidationReport } from '../../core/driver/types';
import { chooseMember, memberNodeName } from './choose-member';
import { zookeeperEndpoint, type ZooKeeperConfig } from './config';
import { validateBackupFiles } from './files/validate-files';
import { hostLocalSnapshot, spooledFiles } from './host-local/backup';
import { logicalSnapshot, validateLogicalSnapshot, LOGICAL_NODE } from './logical-backup';
import { recordedEnd, zookeeperRecord, zxidHex } from './records';

export class ZooKeeperBackupDriver extends SpoolBackupDriver<ZooKeeperConfig> {
  /** The members' addresses: what the circuit breaker protects. */
  endpoint(config: ZooKeeperConfig): string {
    return zookeeperEndpoint(config);
  }

  /**
   * Host-local: the one member the backup is taken on (highest zxid, a follower on a tie), on its
   * host. Logical: one node, wherever the step runs (the walk reaches the ensemble over the network).
   */
  async listNodes(ctx: Omit<BackupContext<ZooKeeperConfig>, 'node' | 'spoolDir'>): Promise<NodeRef[]> {
    if (ctx.config.mode === 'logical') return [{ name: LOGICAL_NODE }];
    const chosen = await chooseMember(ctx.config);
    const member = ctx.config.members[chosen.index];
    ctx.logger.info('zookeeper backup: member chosen', { member: member.address, zxid: zxidHex(chosen.status.zxid), role: chosen.status.mode });
    return [{ name: memberNodeName(chosen.index), ...(member.host ? { host: member.host } : {}) }];
  }

  /** The members' hosts: a host-local backup runs on whichever member the choice falls on. */
  configHosts(config: ZooKeeperConfig): string[] {
    return config.mode === 'logical' ? [] : config.members.flatMap((m) => (m.host ? [m.host] : []));
  }

  createSnapshot(ctx: BackupContext<ZooKeeperConfig>): Promise<SnapshotTaken> {
    return ctx.config.mode === 'logical' ? logicalSnapshot(ctx) : hostLocalSnapshot(ctx);
  }

  /**
   * Re-hashes every artifact, then reads the files as ZooKeeper would: host-local, headers,
   * checksums, no gap, and the tree at the end replayed to the recorded zxid and digest; logical,
   * the tree artifact read through to its trailer and its digest recomputed.
   */
  async validateSnapshot(ctx: BackupContext<ZooKeeperConfig>, snapshot: SnapshotRef): Promise<ValidationReport> {
    const checks: ValidationCheck[] = [];
    try {
      for (const artifact of snapshot.artifacts) await verifyArtifact(snapshot.spoolDir, artifact);
      checks.push({ name: 'artifact-sha256', ok: true, detail: `${snapshot.artifacts.length} artifacts` });
    } catch (error) {
      checks.push({ name: 'artifact-sha256', ok: false, detail: (error as Error).message });
      return { ok: false, checks };
    }
    const { consistency, facts } = zookeeperRecord(snapshot);
    if (consistency.mode === 'logical') {
      checks.push(...await validateLogicalSnapshot(ctx, snapshot, facts));
      return { ok: checks.every((c) => c.ok), checks };
    }
    const report = await validateBackupFiles({ ...spooledFiles(snapshot.spoolDir, snapshot.artifacts), expected: recordedEnd(consistency.zxid, facts) });
    checks.push(...report.checks);
    return { ok: checks.every((c) => c.ok), checks };
  }
}
