/**
 * Throwaway processes for the tests of pid handling: an unrelated program a stale pid file can
 * name (`sleep`), one that ignores SIGTERM, and children whose parent never reaps them (zombies
 * once they exit). Each runs in its own process group; {@link killStarted} ends them all.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const groups: number[] = [];

/** Runs `script` with `sh -c` in a new process group; resolves with the shell's pid and its first line of output. */
async function startShell(script: string): Promise<{ pid: number; firstLine: string }> {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  groups.push(child.pid!);
  const lines = createInterface({ input: child.stdout! });
  const firstLine = await new Promise<string>((resolve) => lines.once('line', resolve));
  lines.close();
  child.stdout!.destroy();
  child.unref();
  return { pid: child.pid!, firstLine };
}

/** Polls `check` until it holds (at most 5 s). */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function programOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return undefined;
  }
}

/** True when `pid` exists and is a zombie. */
export function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A `sleep 30`: an unrelated, long-running program. With `ignoreTerm` it survives SIGTERM. */
export async function startSleep(options: { ignoreTerm?: boolean } = {}): Promise<number> {
  const { pid } = await startShell(`${options.ignoreTerm ? "trap '' TERM; " : ''}echo started; exec sleep 30`);
  await until(() => programOf(pid) === 'sleep', `pid ${pid} to exec sleep`);
  return pid;
}

/**
 * A process running under another program's name (`exec -a`) with `args`: e.g. a `mariadbd` that is not ours,
 * like the production server on the host of a restore.
 */
export async function startNamed(name: string, ...args: string[]): Promise<number> {
  // bash's `exec -a` sets argv[0]; the inner bash (kept by `; true`) carries `args` in its argv.
  const { pid } = await startShell(`echo started; exec bash -c 'exec -a "$0" bash -c "sleep 30; true" "$@"' ${name} ignored ${args.join(' ')}`);
  await until(() => programOf(pid) === name, `pid ${pid} to exec ${name}`);
  // Until its child has become `sleep`, the child is a copy of it, name and argv alike: a second
  // "server" to whoever looks (seen on a busy machine).
  await until(() => childrenOf(pid).some((child) => programOf(child) === 'sleep'), `pid ${pid}'s child to exec sleep`);
  return pid;
}

/** The processes whose parent is `pid` (Linux's /proc/<pid>/task/<pid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * A `sleep <seconds>` whose parent never reaps it: once it exits (or is killed) it stays a zombie.
 * `sleep 0` is a zombie at once.
 */
export async function startUnreapedSleep(seconds: number): Promise<number> {
  const { pid: parent, firstLine } = await startShell(`sleep ${seconds} & echo $!; exec sleep 60`);
  const pid = Number(firstLine);
  await until(() => programOf(pid) === 'sleep' || isZombie(pid), `pid ${pid} to exec sleep`);
  // Until the shell has become `sleep 60`, it may still reap its child (seen on a busy machine).
  await until(() => programOf(parent) === 'sleep', `pid ${parent} to exec sleep`);
  return pid;
}

/** Kills every process group started here. */
export function killStarted(): void {
  for (const group of groups.splice(0)) {
    try { process.kill(-group, 'SIGKILL'); } catch { /* already gone */ }
  }
}
