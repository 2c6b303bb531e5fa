/**
 * The prepare step of an etcd restore, for each member of the target on the step's node: what its data dir holds and
 * whether the restore may replace it, whether a member running on it may be stopped, and whether
 * its ports are free. Idempotent, and never destructive: nothing is removed here.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { assertPortFree, replaceableEntries, type DataDirRestore } from '../../core/host/data-dir-target';
import type { JsonObject, PreparedTarget, RestoreContext } from '../../core/driver/types';
import { memberLogFile, memberPidFile } from './member';
import { restoreMembers } from './restored-member';
import {
  clusterTokenFor, initialCluster, isClusterTarget, membersHere, targetMembers, urlAddress, type EtcdRestoreTarget, type TargetMember,
} from './restore-target';
import { ENGINE } from './backup-driver';

/** The data dir restore of one member of `ctx`'s target (core/host/data-dir-target.ts). */
export function dataDirRestore(ctx: RestoreContext<EtcdRestoreTarget>, member: TargetMember): DataDirRestore {
  return { engine: ENGINE, dataDir: member.dataDir, backupId: ctx.backup.backupId, spoolDir: ctx.spoolDir, force: ctx.force };
}

/** One member's part of the prepared target: its data dir, whether it is replaced, its addresses and files. */
async function prepareMember(ctx: RestoreContext<EtcdRestoreTarget>, member: TargetMember): Promise<JsonObject> {
  const { dataDir } = member;
  const { entries, own } = await replaceableEntries(dataDirRestore(ctx, member));
  const replace = entries.length > 0;
  if (replace && !own) {
    // Nothing is removed yet: the restore step replaces the data dir only after the backup has
    // been downloaded and verified, so a corrupt backup never costs the target its data.
    ctx.logger.warn('etcd restore: --force given, the non-empty data dir will be replaced', { dataDir, entries: entries.length });
  }
  await restoreMembers(ctx).stoppable(dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (ctx.target.start && !replace) {
    await restoreMembers(ctx).stop(dataDir); // our own member from an earlier attempt, if any
    const where = isClusterTarget(ctx.target) ? `member ${member.name}'s ` : '';
    for (const [field, url] of [['clientUrl', member.clientUrl], ['peerUrl', member.peerUrl]]) {
      await assertPortFree(ENGINE, urlAddress(url), `${where}${field} ${url}`, 'choose free clientUrl/peerUrl ports for the restored member');
    }
  }
  return {
    dataDir, replace, name: member.name, clientUrl: member.clientUrl, peerUrl: member.peerUrl,
    logFile: memberLogFile(dataDir), pidFile: memberPidFile(dataDir),
  };
}

/**
 * Refuses a non-empty data dir (PermanentError `TARGET_NOT_EMPTY`) unless `ctx.force` or it holds
 * this restore's own unfinished work; a member running on a data dir that this restore did not
 * start (`SERVER_NOT_STARTED_BY_RESTORE`) unless the target allows stopping it; and, when the
 * members are to be started on empty dirs, client and peer ports already in use
 * (`TARGET_PORT_IN_USE`). Every member is checked before the next; the first refusal is thrown.
 */
export async function prepareEtcdTarget(ctx: RestoreContext<EtcdRestoreTarget>): Promise<PreparedTarget> {
  const members = targetMembers(ctx.target);
  const prepared: JsonObject[] = [];
  for (const member of membersHere(ctx)) prepared.push(await prepareMember(ctx, member));
  const clusterToken = clusterTokenFor(ctx.target, ctx.backup.backupId);
  if (!isClusterTarget(ctx.target)) return { details: { ...prepared[0], clusterToken } };
  return {
    details: { members: prepared, replace: prepared.some((m) => m.replace === true), clusterToken, initialCluster: initialCluster(members) },
  };
}
