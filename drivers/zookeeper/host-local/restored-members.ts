/**
 * The ZooKeeper servers a host-local restore finds, stops and starts on its target members, under
 * the rules of core/host/started-servers.ts: started (together: startTogether) and recorded as this restore's own, and
 * stopped only when this restore started them or the target allows it (`stopRunningServer`).
 */
import path from 'node:path';
import { membersOn } from '../../../core/driver/node-ref';
import type { RestoreContext } from '../../../core/driver/types';
import { recordStartedServer, restoreServers, type RestoreServers } from '../../../core/host/started-servers';
import type { HostLocalTarget, TargetMember } from '../config';
import { memberFiles, memberPid, startZooKeeperMember, stopZooKeeperMember, type MemberOptions, type RunningZooKeeper } from '../member';

/** The servers of the restore `ctx` describes. */
export function restoreMembers(ctx: RestoreContext<HostLocalTarget>): RestoreServers<MemberOptions, RunningZooKeeper> {
  const permission = { restoreId: ctx.restoreId, explicitly: ctx.target.stopRunningServer, flag: 'stopRunningServer', engine: 'zookeeper', logger: ctx.logger };
  return restoreServers(permission, function serverOn(dataDir) {
    return {
      pidFile: memberFiles(dataDir).pidFile,
      what: `the ZooKeeper server of ${path.resolve(dataDir)}`,
      pid: () => memberPid(dataDir),
      stop: () => stopZooKeeperMember(dataDir),
    };
  }, function startOwnMember(options) {
    // Recorded as this restore's the moment it runs: ensemble members wait for each other's votes,
    // and a step killed meanwhile leaves servers a retry must recognise as its own.
    const onSpawn = (pid: number) => recordStartedServer(memberFiles(options.dataDir).pidFile, ctx.restoreId, pid);
    return startZooKeeperMember({ ...options, onSpawn });
  });
}

/** How a target member is started: its own id, dirs and ports, and every member of the target as its ensemble. */
export function memberStartOptions(target: HostLocalTarget, member: TargetMember): MemberOptions {
  const ensemble = target.members.length === 1 ? [] : target.members.map((m) => ({
    id: m.id, host: m.hostname, quorumPort: m.quorumPort as number, electionPort: m.electionPort as number,
  }));
  return {
    id: member.id,
    dataDir: path.resolve(member.dataDir),
    dataLogDir: member.dataLogDir === undefined ? undefined : path.resolve(member.dataLogDir),
    host: member.hostname,
    clientPort: member.clientPort,
    ensemble,
    heapMb: member.heapMb,
    juteMaxBuffer: member.juteMaxBuffer,
  };
}

/** The directories of a member a restore replaces: its dataDir, and its dataLogDir when separate. */
export function memberDirsOf(member: TargetMember): string[] {
  const dirs = [path.resolve(member.dataDir)];
  if (member.dataLogDir !== undefined && path.resolve(member.dataLogDir) !== dirs[0]) dirs.push(path.resolve(member.dataLogDir));
  return dirs;
}

/** A member's client address, `hostname:clientPort`. */
export function clientAddress(member: TargetMember): string {
  return `${member.hostname}:${member.clientPort}`;
}

/** The members whose restore steps run on the step's node (all of them for a target on one host). */
export function membersHere(ctx: RestoreContext<HostLocalTarget>): TargetMember[] {
  return membersOn(ctx.target.members, ctx.node);
}
