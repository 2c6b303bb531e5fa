/**
 * Proof of a backup's consistency point, independent of the driver: replays the SOURCE server's
 * binary log from the position a backup recorded up to the source's current position onto the
 * restored server. If the backup is exactly the state at that position, the restored server then
 * equals the source (compare with `tableChecksums`); a backup that missed or double-counted a
 * commit diverges (missing rows, duplicate-key errors during the replay, or different checksums).
 *
 * Stop all writes to the source before calling it: the replay ends at the position read at the
 * start of the call. Uses only the stock tools (`mariadb-binlog --read-from-remote-server | mariadb`).
 */
import { Transform, type TransformCallback } from 'node:stream';
import mysql from 'mysql2/promise';
import { runToolPipe } from '../../core/host/tool-pipe';
import { MYSQL_TOOLS } from '../../drivers/mysql/shared/tool-errors';

/** A server to reach: a harness server (`config()`) or plain settings. */
export type ReplayEndpoint =
  | { config(): { host: string; port: number; user: string; password: string } }
  | { host: string; port: number; user?: string; password?: string };

export interface ReplayToCurrentOptions {
  /** Apply only this database's events (`mariadb-binlog --database`), e.g. when the backup held only it. */
  database?: string;
}

export interface ReplayToCurrentResult {
  from: { file: string; position: number };
  to: { file: string; position: number; gtid: string };
  /** Transactions (GTID events) replayed. */
  transactions: number;
}

/** A pass-through that hands every whole line (latin1) to `onLine`. */
class LineScanner extends Transform {
  private carry = '';

  constructor(private readonly onLine: (line: string) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const lines = (this.carry + chunk.toString('latin1')).split('\n');
    this.carry = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
    callback(null, chunk);
  }
}

function settingsOf(endpoint: ReplayEndpoint): { host: string; port: number; user: string; password: string } {
  if ('config' in endpoint) return endpoint.config();
  return { host: endpoint.host, port: endpoint.port, user: endpoint.user ?? 'root', password: endpoint.password ?? '' };
}

const connectionArgs = (s: { host: string; port: number; user: string }): string[] =>
  ['--no-defaults', `--host=${s.host}`, `--port=${s.port}`, `--user=${s.user}`, '--protocol=tcp'];

/**
 * Replays the source's binlog from `consistency` (`binlogFile`, `binlogPosition` as a backup
 * recorded them) to the source's current position onto `restored`.
 * @throws when the consistency point has no binlog position, or either tool fails (as core/host/tool-pipe.ts reports it, its stderr in the message).
 */
export async function replayToCurrent(
  source: ReplayEndpoint,
  restored: ReplayEndpoint,
  consistency: Record<string, unknown>,
  options: ReplayToCurrentOptions = {},
): Promise<ReplayToCurrentResult> {
  const file = consistency.binlogFile;
  const position = consistency.binlogPosition;
  if (typeof file !== 'string' || typeof position !== 'number') {
    throw new Error(`the consistency point has no binlog position: ${JSON.stringify(consistency)}`);
  }
  const src = settingsOf(source);
  const dst = settingsOf(restored);

  const admin = await mysql.createConnection({ host: src.host, port: src.port, user: src.user, password: src.password });
  let files: string[];
  let end: { file: string; position: number; gtid: string };
  try {
    const [[status]] = await admin.query('SHOW MASTER STATUS') as [Array<{ File: string; Position: number | string }>, unknown];
    const [[gtid]] = await admin.query('SELECT @@GLOBAL.gtid_binlog_pos AS g') as [Array<{ g: string }>, unknown];
    const [logs] = await admin.query('SHOW BINARY LOGS') as [Array<{ Log_name: string }>, unknown];
    end = { file: status.File, position: Number(status.Position), gtid: gtid.g };
    const seq = (name: string) => Number(/\.(\d+)$/.exec(name)?.[1] ?? NaN);
    files = logs.map((l) => l.Log_name).filter((name) => seq(name) >= seq(file) && seq(name) <= seq(end.file));
  } finally {
    await admin.end();
  }
  if (files[0] !== file) throw new Error(`the source no longer has ${file} (it has ${files.join(', ') || 'nothing from there'})`);

  const readerArgs = [
    ...connectionArgs(src), '--read-from-remote-server', `--start-position=${position}`, `--stop-position=${end.position}`,
    ...(options.database ? [`--database=${options.database}`] : []),
    ...files,
  ];
  let transactions = 0;
  const counter = new LineScanner((line) => {
    if (line.startsWith('#') && /\tGTID \d+-\d+-\d+/.test(line)) transactions += 1;
  });
  const range = `${file}:${position}..${end.file}:${end.position}`;
  await runToolPipe(
    { command: 'mariadb-binlog', argv: readerArgs, what: `reading the source's binlog ${range}`, env: { ...process.env, MYSQL_PWD: src.password, TZ: 'UTC' } },
    { command: 'mariadb', argv: [...connectionArgs(dst), '--binary-mode', '--batch'], what: `replaying ${range} onto ${dst.host}:${dst.port}`, env: { ...process.env, MYSQL_PWD: dst.password } },
    { errors: MYSQL_TOOLS, through: [counter] },
  );
  return { from: { file, position }, to: end, transactions };
}
