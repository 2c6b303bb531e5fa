/**
 * Running our CLI in a benchmark as a user would (a process of its own, `--json`, its log at info),
 * and checking that a restore holds what the source held.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import mysql from 'mysql2/promise';
import type { RunningServer } from '../drivers/mysql/shared/local-server';

const CLI = path.join(path.resolve(__dirname, '..'), 'bin', 'dbbackup.js');

/** A finished process: its wall time, stdout, and stderr's log lines. */
export interface Ran {
  ms: number;
  stdout: string;
  logs: Array<{ at: number; message: string; step?: string; ms?: number }>;
}

/** Runs our CLI with `args` (and `env` added to this process's); resolves when it exits 0 (rejects with its stderr's tail otherwise). */
export function dbbackup(store: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--store', store, '--json', '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Date.now() - started;
      if (code !== 0) return reject(new Error(`dbbackup ${args[0]} failed (${code}): ${stderr.slice(-800)}`));
      const logs = stderr.split('\n').flatMap((line) => {
        try {
          const entry = JSON.parse(line) as { time?: string; message?: string; step?: string; ms?: number };
          return entry.time && entry.message ? [{ at: Date.parse(entry.time) - started, message: entry.message, step: entry.step, ms: entry.ms }] : [];
        } catch {
          return [];
        }
      });
      resolve({ ms, stdout, logs });
    });
  });
}

/** Runs `work` on a root connection to `server`, closed after. */
export async function asRoot<T>(server: RunningServer, work: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: 'root' });
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Empties `database` on `server` (before a restore into it). */
export async function dropDatabase(server: RunningServer, database: string): Promise<void> {
  await asRoot(server, (c) => c.query(`DROP DATABASE IF EXISTS ${database}`));
}

/** Rows per table of `database` on `server`, as one comparable string. */
export function rowCounts(server: RunningServer, database: string): Promise<string> {
  return asRoot(server, async (c) => {
    const [tables] = await c.query({ sql: 'SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name', values: [database], rowsAsArray: true }) as [string[][], unknown];
    const counts: string[] = [];
    for (const [table] of tables) {
      const [[row]] = await c.query({ sql: `SELECT COUNT(*) FROM \`${database}\`.\`${table}\``, rowsAsArray: true }) as [unknown[][], unknown];
      counts.push(`${table}:${String(row[0])}`);
    }
    return counts.join(' ');
  });
}

