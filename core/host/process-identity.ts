/**
 * A process told apart from every other one that had or will have its pid: the pid with the
 * process's start time (clock ticks after boot, field 22 of /proc/<pid>/stat), on a host and boot.
 * The kernel reuses pids, so a pid alone recorded by a run that was killed may name an unrelated
 * process a minute later; the pair (pid, start time) never does within one boot.
 *
 * Off Linux (no /proc) the start time and boot id are unknown; then only the pid is compared.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isAlive } from './processes';

/** One process, as recorded by a run. */
export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks after boot; absent where /proc is not available. */
  startTime?: number;
}

/** Where a process runs: host name and boot (a reboot ends every process of the boot before). */
export interface HostBoot {
  host: string;
  /** /proc/sys/kernel/random/boot_id; absent where /proc is not available. */
  bootId?: string;
}

/** The start time of `pid` (clock ticks after boot), or undefined when it is gone or /proc is missing. */
export function processStartTime(pid: number): number | undefined {
  try {
    // Field 2, the command name, is in parentheses and may hold spaces: count from after it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = Number(fields[19]); // field 22 overall; fields[0] is field 3
    return Number.isSafeInteger(startTime) ? startTime : undefined;
  } catch {
    return undefined;
  }
}

/** The identity of `pid` as it runs now; undefined when it is not alive. */
export function identityOf(pid: number): ProcessIdentity | undefined {
  if (!isAlive(pid)) return undefined;
  const startTime = processStartTime(pid);
  return startTime === undefined ? { pid } : { pid, startTime };
}

/** This process. */
export function currentProcess(): ProcessIdentity {
  return identityOf(process.pid) ?? { pid: process.pid };
}

let cachedBoot: HostBoot | undefined;

/** This host and boot. */
export function currentHostBoot(): HostBoot {
  if (!cachedBoot) {
    let bootId: string | undefined;
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
    } catch {
      bootId = undefined;
    }
    cachedBoot = bootId ? { host: os.hostname(), bootId } : { host: os.hostname() };
  }
  return cachedBoot;
}

/**
 * True when the process `identity` names still runs (on this host and boot): alive, not a zombie,
 * and — when a start time was recorded — started at that time, so a reused pid does not count.
 */
export function isRunning(identity: ProcessIdentity): boolean {
  if (!isAlive(identity.pid)) return false;
  if (identity.startTime === undefined) return true;
  return processStartTime(identity.pid) === identity.startTime;
}

/** `pid:startTime` (or `pid`), as passed to child processes in an environment variable. */
export function formatIdentity(identity: ProcessIdentity): string {
  return identity.startTime === undefined ? String(identity.pid) : `${identity.pid}:${identity.startTime}`;
}

/** Parses {@link formatIdentity}'s text; undefined when it is not one. */
export function parseIdentity(text: string | undefined): ProcessIdentity | undefined {
  const match = /^(\d+)(?::(\d+))?$/.exec(text?.trim() ?? '');
  if (!match) return undefined;
  const pid = Number(match[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return match[2] === undefined ? { pid } : { pid, startTime: Number(match[2]) };
}
