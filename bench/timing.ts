/** What every benchmark times with: a shell pipeline, and an async step. */
import { spawn } from 'node:child_process';

/** Runs `command` in bash with pipefail; resolves to its wall time (ms), rejects with its stderr's tail. */
export function sh(command: string): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -o pipefail; ${command}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Date.now() - started) : reject(new Error(`${command} failed (${code}): ${stderr.slice(-500)}`))));
  });
}

/** `fn`'s value and its wall time (ms). */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = Date.now();
  const value = await fn();
  return [value, Date.now() - started];
}
