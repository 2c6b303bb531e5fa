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
import { hostLocalSnapshot, recordedFiles } from './host-local/backup';
import { validateHostLocalSnapshot } from './host-local/validate-snapshot';
import { logicalSnapshot, validateLogicalSnapshot, LOGICAL_NODE, TREE_ARTIFACT } from './logical-backup';
import { zookeeperConsistencySchema, zookeeperFactsSchema, zookeeperRecord, zxidHex } from './records';

/**
 * The artifacts a ZooKeeper node's record names (the plugin's `recordSchemas.artifactsNamed`): a
 * host-local backup's snapshot and logs, as its facts record them; a logical backup's facts name
 * none, and it always writes the one {@link TREE_ARTIFACT}. None for a record that does not parse
 * (checking it says why).
 */
export function artifactsNamedBy(record: { consistency: unknown; facts: unknown }): string[] {
  const consistency = zookeeperConsistencySchema.safeParse(record.consistency);
  const facts = zookeeperFactsSchema.safeParse(record.facts);
  if (!consistency.success || !facts.success) return [];
  return consistency.data.mode === 'logical' ? [TREE_ARTIFACT] : recordedFiles(facts.data);
}

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
   * Host-local: every artifact re-hashed where it was written (spool or store) and equal to the
   * bytes createSnapshot proved as it wrote them (host-local/validate-snapshot.ts). Logical: every
   * artifact re-hashed, and the tree artifact read through to its trailer, its digest recomputed.
   */
  async validateSnapshot(ctx: BackupContext<ZooKeeperConfig>, snapshot: SnapshotRef): Promise<ValidationReport> {
    const { consistency, facts } = zookeeperRecord(snapshot);
    if (consistency.mode === 'host-local') {
      const checks = await validateHostLocalSnapshot(ctx, snapshot, consistency, facts);
      return { ok: checks.every((c) => c.ok), checks };
    }
    const checks: ValidationCheck[] = [];
    try {
      for (const artifact of snapshot.artifacts) await verifyArtifact(snapshot.spoolDir, artifact, ctx.destination?.store);
      checks.push({ name: 'artifact-sha256', ok: true, detail: `${snapshot.artifacts.length} artifacts` });
    } catch (error) {
      checks.push({ name: 'artifact-sha256', ok: false, detail: (error as Error).message });
      return { ok: false, checks };
    }
    checks.push(...await validateLogicalSnapshot(ctx, snapshot, facts));
    return { ok: checks.every((c) => c.ok), checks };
  }
}
