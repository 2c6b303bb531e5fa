/**
 * Servers a restore started on this host (the restored etcd member, the MariaDB server on a
 * restored data dir), recorded so that a restore stops only what it started itself: a retry of the
 * same restore may stop the server an earlier attempt started, but a server already running on the
 * target — yesterday's restore still in use, or a server nobody here started — is stopped only when
 * the restore target says so explicitly.
 *
 *     <pidFile>.started-by.json    { restoreId, pid, startTime, startedAt }
 *
 * The record names the process by pid and start time, so a reused pid is never taken for it.
 * Other restore paths (a failure cleanup) can ask {@link startedByRestore} which restore started a
 * server before they stop it.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { PermanentError } from '../errors';
import type { Logger } from '../logger';
import { identityOf, isRunning } from './process-identity';
import { assertNoProcessUses } from './open-files';

interface StartedRecord {
  restoreId: string;
  pid: number;
  startTime?: number;
  startedAt: string;
}

const recordFile = (pidFile: string): string => `${pidFile}.started-by.json`;

/** Records that restore `restoreId` started the process `pid`, whose pid file is `pidFile`. */
export async function recordStartedServer(pidFile: string, restoreId: string, pid: number): Promise<void> {
  const identity = identityOf(pid) ?? { pid };
  const record: StartedRecord = { restoreId, ...identity, startedAt: new Date().toISOString() };
  await writeFile(recordFile(pidFile), `${JSON.stringify(record)}\n`);
}

/** The restore that started the live process `pid` of `pidFile`; undefined when no restore did (or the record is stale). */
export async function startedByRestore(pidFile: string, pid: number): Promise<string | undefined> {
  let record: StartedRecord;
  try {
    record = JSON.parse(await readFile(recordFile(pidFile), 'utf8')) as StartedRecord;
  } catch {
    return undefined;
  }
  return record.pid === pid && isRunning({ pid: record.pid, startTime: record.startTime }) ? record.restoreId : undefined;
}

/** Forgets the record of a server that was stopped. */
export async function forgetStartedServer(pidFile: string): Promise<void> {
  await rm(recordFile(pidFile), { force: true });
}

/** Whether a restore may stop a server it finds running on its target. */
export interface StopPermission {
  /** The restore asking. */
  restoreId: string;
  /** The target's explicit permission to stop a server this restore did not start. */
  explicitly: boolean;
  /** The target field that gives it, for the error message (e.g. `stopRunningServer`). */
  flag: string;
  engine: string;
  logger: Logger;
}

/**
 * Allows stopping the live server `pid` (described as `what`, e.g. `the etcd member of /srv/x`)
 * when this restore started it, or the target allows it explicitly.
 * @throws PermanentError `SERVER_NOT_STARTED_BY_RESTORE` naming the server, its pid and the flag.
 */
export async function assertMayStop(pidFile: string, pid: number, what: string, permission: StopPermission): Promise<void> {
  const starter = await startedByRestore(pidFile, pid);
  if (starter === permission.restoreId) return;
  if (permission.explicitly) {
    permission.logger.warn('restore: stopping a server this restore did not start, as the target allows', { server: what, pid, startedBy: starter ?? 'unknown' });
    return;
  }
  throw new PermanentError(
    `${what} is running (pid ${pid}) and this restore did not start it${starter ? ` (restore ${starter} did)` : ''}; a restore never stops a server it did not start unless the target says so: stop it yourself, or set "${permission.flag}": true in the target`,
    { code: 'SERVER_NOT_STARTED_BY_RESTORE', engine: permission.engine },
  );
}

/** A server a restore may find running on its target, and how to find and stop it. */
export interface TargetServer {
  pidFile: string;
  /** For messages, e.g. `the etcd member of /srv/restore/etcd`. */
  what: string;
  /** The pid of the live server the pid file records; undefined when none runs. */
  pid(): Promise<number | undefined>;
  /** Stops it (a missing or stale pid file is nothing to stop). */
  stop(): Promise<void>;
}

/**
 * The pid of the server running on the target, once it is clear the restore may stop it;
 * undefined when none runs. @throws as {@link assertMayStop}.
 */
export async function stoppableServer(server: TargetServer, permission: StopPermission): Promise<number | undefined> {
  const pid = await server.pid();
  if (pid !== undefined) await assertMayStop(server.pidFile, pid, server.what, permission);
  return pid;
}

/** Stops the server running on the target, if any, when the restore may (see {@link stoppableServer}). */
export async function stopServerOnTarget(server: TargetServer, permission: StopPermission): Promise<void> {
  await stoppableServer(server, permission);
  await server.stop();
  await forgetStartedServer(server.pidFile);
}

/**
 * Stops the server running on the target only when restore `restoreId` started it (what a failed
 * restore's cleanup may stop, whatever the target allows); returns its pid, or undefined when none
 * runs or it is not that restore's.
 */
export async function stopIfStartedBy(server: TargetServer, restoreId: string): Promise<number | undefined> {
  const pid = await server.pid();
  if (pid === undefined || (await startedByRestore(server.pidFile, pid)) !== restoreId) return undefined;
  await server.stop();
  await forgetStartedServer(server.pidFile);
  return pid;
}

/** The servers one restore may find, stop and start on its targets (see {@link restoreServers}). */
export interface RestoreServers<O, S> {
  /**
   * The pid of the server running on `dir`, once it is clear the restore may stop it; undefined
   * when none runs. @throws as {@link assertMayStop}, and PermanentError `TARGET_IN_USE` when no
   * recorded server runs but another process holds files under `dir`.
   */
  stoppable(dir: string): Promise<number | undefined>;
  /** Stops the server running on `dir`, if any, when the restore may. */
  stop(dir: string): Promise<void>;
  /** Stops the server running on `dir` only if this restore started it (its cleanup); the pid stopped, if any. */
  stopOwn(dir: string): Promise<number | undefined>;
  /** Starts a server and records it as this restore's own. */
  start(options: O): Promise<S>;
}

/**
 * A driver's servers under this module's rules: `serverOn(dir)` finds the server of a target dir,
 * `start` starts one.
 *
 * @example
 * ```ts
 * const members = restoreServers(permission, (dir) => ({ pidFile, what, pid, stop }), startMember);
 * await members.stop(dataDir); // refused unless this restore started it or the target allows it
 * ```
 */
export function restoreServers<O, S extends { pid: number; pidFile: string }>(
  permission: StopPermission,
  serverOn: (dir: string) => TargetServer,
  start: (options: O) => Promise<S>,
): RestoreServers<O, S> {
  return {
    async stoppable(dir) {
      const pid = await stoppableServer(serverOn(dir), permission);
      // None recorded: one started by hand or by systemd has no record, but holds the dir's files all the same.
      if (pid === undefined) await assertNoProcessUses(dir, permission.engine);
      return pid;
    },
    stop: (dir) => stopServerOnTarget(serverOn(dir), permission),
    stopOwn: (dir) => stopIfStartedBy(serverOn(dir), permission.restoreId),
    async start(options) {
      const server = await start(options);
      await recordStartedServer(server.pidFile, permission.restoreId, server.pid);
      return server;
    },
  };
}

/**
 * Starts several servers of one restore together — the members of an ensemble or cluster wait for
 * each other's votes, so none is ready before a majority runs. A server this restore started on
 * the same dir before (a retried step whose host died) is stopped first. When any fails, the
 * others are stopped again (their records name this restore) and the first failure is thrown.
 * @param dirOf the target dir of a server's options, as `servers` finds it there
 */
export async function startTogether<O, S>(servers: RestoreServers<O, S>, options: readonly O[], dirOf: (options: O) => string): Promise<S[]> {
  await Promise.all(options.map((o) => servers.stopOwn(dirOf(o))));
  const outcomes = await Promise.allSettled(options.map((o) => servers.start(o)));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (!failed) return outcomes.map((o) => (o as PromiseFulfilledResult<S>).value);
  await Promise.all(options.map((o) => servers.stopOwn(dirOf(o)).catch(() => undefined)));
  throw failed.reason;
}
