/**
 * Installs Debian packages when the commands they provide are missing, so the demo and the test
 * harness work on a fresh machine. Services are never auto-started (policy-rc.d exits 101).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { PermanentError } from '../errors';

/** True when `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Ensures every command in `need` (and every file in `files`) exists, installing `packages` with apt-get otherwise.
 * @param need commands that must be present afterwards, e.g. ['etcd', 'etcdctl']
 * @param files paths that must exist afterwards, e.g. ['/usr/share/java/zookeeper.jar']
 */
export function ensureDebianPackages(need: string[], packages: string[], log: (line: string) => void = () => {}, files: readonly string[] = []): void {
  const present = () => need.every(hasCommand) && files.every((file) => existsSync(file));
  if (present()) return;
  if (!hasCommand('apt-get')) {
    throw new PermanentError(`missing ${[...need, ...files].join(', ')} and no apt-get to install ${packages.join(' ')}`, { code: 'MISSING_TOOL' });
  }
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  if (!existsSync('/usr/sbin/policy-rc.d') && sudo.length === 0) {
    writeFileSync('/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  }
  log(`installing Debian packages: ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env });
  };
  try {
    run(['apt-get', 'install', '-y', '--no-install-recommends', ...packages]);
  } catch {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '--no-install-recommends', ...packages]);
  }
  const still = [...need.filter((c) => !hasCommand(c)), ...files.filter((file) => !existsSync(file))];
  if (still.length > 0) {
    throw new PermanentError(`installed ${packages.join(' ')} but ${still.join(', ')} still missing`, { code: 'MISSING_TOOL' });
  }
}
