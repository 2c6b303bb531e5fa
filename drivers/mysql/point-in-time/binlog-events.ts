/**
 * Reading the binlog tool's output: its event header lines (`#261121 12:11:52 server id 1
 * end_log_pos 421 … GTID 0-1-75 trans`), the scanner that notes them as a replay passes through,
 * and a reader of the events a window of the binlogs holds (window-checks.ts).
 */
import { createInterface } from 'node:readline';
import { Transform, type TransformCallback } from 'node:stream';
import { spawnStreamingTool } from '../../../core/host/streaming-tool';
import { toolExitError } from '../../../core/host/tool-errors';
import { parseGtid, type Gtid } from '../shared/gtid';
import { MYSQL_TOOLS } from '../shared/tool-errors';

/** One event header of the binlog tool's output: `#261121 12:11:52 server id 1  end_log_pos 421 CRC32 0x… 	GTID 0-1-75 trans`. */
export function parseEventHeader(line: string): EventHeader | undefined {
  const match = /^#(\d{2})(\d{2})(\d{2}) +(\d{1,2}):(\d{2}):(\d{2}) server id (\d+) +end_log_pos (\d+)(.*)$/.exec(line);
  if (!match) return undefined;
  const [, yy, mm, dd, h, mi, s, serverId, endPosition, rest] = match;
  const at = new Date(Date.UTC(2000 + Number(yy), Number(mm) - 1, Number(dd), Number(h), Number(mi), Number(s)));
  const gtid = /\bGTID (\d+-\d+-\d+)\b/.exec(rest);
  const type = /\t([A-Za-z_]+)/.exec(rest)?.[1] ?? '';
  return { at, serverId: Number(serverId), endPosition: Number(endPosition), type, ...(gtid ? { gtid: parseGtid(gtid[1]) } : {}) };
}

/** What {@link parseEventHeader} reads of an event's header line. */
export interface EventHeader {
  at: Date;
  serverId: number;
  /** Where the event ends in its file (with the file, it names the event). */
  endPosition: number;
  /** The event's type as the tool prints it: `Query`, `GTID`, `Xid`, `Start` (a file's first event)… */
  type: string;
  gtid?: Gtid;
}

/**
 * Passes the binlog tool's output through unchanged, noting every event header: the last GTID per
 * domain, the number of transactions, the first and last event time (the tool runs with TZ=UTC).
 */
export class BinlogEventScanner extends Transform {
  readonly lastGtid = new Map<number, Gtid>();
  transactions = 0;
  firstEventAt?: Date;
  lastEventAt?: Date;
  private carry = '';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.scan(chunk.toString('latin1'));
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.scan('\n');
    callback();
  }

  private scan(text: string): void {
    const all = this.carry + text;
    let start = 0;
    for (;;) {
      const end = all.indexOf('\n', start);
      if (end === -1) break;
      if (all.charCodeAt(start) === 0x23 /* # */) this.line(all.slice(start, end));
      start = end + 1;
    }
    const rest = all.slice(start);
    this.carry = rest.startsWith('#') && rest.length < 4096 ? rest : '';
  }

  private line(line: string): void {
    const header = parseEventHeader(line);
    if (!header) return;
    // The format description event at the top of every file carries the file's creation time.
    if (/\bStart: binlog\b/.test(line)) return;
    this.firstEventAt ??= header.at;
    this.lastEventAt = header.at;
    if (header.gtid) {
      this.transactions += 1;
      this.lastGtid.set(header.gtid.domain, header.gtid);
    }
  }
}


/** One event of a window read by {@link readBinlogEvents}. */
export interface WindowEvent extends EventHeader {
  /** Which of the files read it is in (0: the first). */
  fileIndex: number;
  /** A `Query` (or `Execute_load_query`) event's statement, without the session settings printed before it (at most {@link STATEMENT_CHARS}). */
  statement?: string;
  /** The session's `sql_mode` when the statement ran (the tool prints it when it changes). */
  sqlMode?: number;
  /** The last GTID event read before this one (the transaction it belongs to). */
  transaction?: Gtid;
}

/** Events printed as a statement after the session's settings (a `LOAD DATA` logged as a statement is an `Execute_load_query`). */
const STATEMENT_EVENTS = new Set(['Query', 'Execute_load_query']);

/** The line the tool ends each statement with. */
const DELIMITER_LINE = '/*!*/;';

/** `# at 1234`: the line before each event's header. */
const EVENT_START = /^# at \d+$/;

/**
 * The session settings the tool prints before a statement (each one line, ending with the
 * delimiter): the default database, time, session variables, character set, insert ids, user
 * variables. Only these are passed over: a statement's own first line may end with the delimiter too.
 */
const SESSION_SETTING = /^(use `(?:[^`]|``)*`\/\*!\*\/;|SET TIMESTAMP=[\d.]+\/\*!\*\/;|SET @@session\.\w+=.*\/\*!\*\/;|\/\*!\\C \w+ \*\/\/\*!\*\/;|SET (INSERT_ID|LAST_INSERT_ID)=\d+\/\*!\*\/;|SET @`(?:[^`]|``)*`:=.*\/\*!\*\/;|\/\*M?!\d+ SET .*\*\/\/\*!\*\/;)$/;

/** How much of a statement is kept: its names come first (a statement-format insert may run to megabytes of values). */
const STATEMENT_CHARS = 1024 * 1024;

/**
 * Runs the binlog tool with `argv` (`--no-defaults` first; rows decoded to comments, not printed
 * as `BINLOG` statements) and calls `visit` with each event, a statement event with its statement;
 * `visit` returns `'stop'` to stop reading. Env `TZ=UTC`, as for a replay.
 * @throws the tool's error when it fails before it was stopped.
 */
export async function readBinlogEvents(command: string, argv: string[], visit: (event: WindowEvent) => 'stop' | void, signal?: AbortSignal): Promise<void> {
  const what = `${command} (reading the archived binlogs' events)`;
  // After `--no-defaults`, which the tool takes only as its first argument.
  const [first, ...rest] = argv;
  const tool = spawnStreamingTool(command, [first, '--base64-output=decode-rows', ...rest], { errors: MYSQL_TOOLS, what, env: { ...process.env, TZ: 'UTC' }, signal });
  tool.stdout.setEncoding('utf8');
  let stopped = false;
  let fileIndex = 0;
  /** Whether a header was read yet: the first file's own first event is printed only when the replay starts at its beginning. */
  let read = false;
  let transaction: Gtid | undefined;
  let sqlMode: number | undefined;
  /** A statement event being read: its header, and its statement's lines once the settings before it are past. */
  let query: { header: EventHeader; lines: string[]; chars: number; inStatement: boolean } | undefined;
  const deliver = (event: WindowEvent) => { if (visit(event) === 'stop') stopped = true; };
  /** The statement read: up to its last delimiter line (a literal in it may hold such a line too). */
  const endQuery = () => {
    const { header, lines } = query!;
    query = undefined;
    const end = lines.lastIndexOf(DELIMITER_LINE);
    deliver({ ...header, fileIndex, statement: (end === -1 ? lines : lines.slice(0, end)).join('\n'), ...(sqlMode !== undefined ? { sqlMode } : {}), ...(transaction ? { transaction } : {}) });
  };
  try {
    for await (const line of createInterface({ input: tool.stdout, crlfDelay: Infinity })) {
      if (query && (EVENT_START.test(line) || line.startsWith('DELIMITER '))) endQuery();
      else if (query) {
        if (!query.inStatement && SESSION_SETTING.test(line)) {
          const mode = /^SET @@session\.sql_mode=(\d+)\/\*!\*\/;$/.exec(line);
          if (mode) sqlMode = Number(mode[1]);
        } else if (query.chars < STATEMENT_CHARS || line === DELIMITER_LINE) {
          query.inStatement = true;
          query.lines.push(line);
          query.chars += line.length + 1;
        }
        continue;
      }
      if (stopped) break;
      const header = line.startsWith('#') ? parseEventHeader(line) : undefined;
      if (!header) continue;
      if (header.type === 'Start' && read) fileIndex += 1;
      read = true;
      if (header.gtid) transaction = header.gtid;
      if (STATEMENT_EVENTS.has(header.type)) query = { header, lines: [], chars: 0, inStatement: false };
      else deliver({ ...header, fileIndex, ...(transaction ? { transaction } : {}) });
      if (stopped) break;
    }
    if (query && !stopped) endQuery();
  } finally {
    if (stopped) {
      tool.stdout.destroy();
      tool.stop();
    }
  }
  const exit = await tool.exited;
  // Stopped on purpose, its exit code is not judged: only a tool that never ran (or was aborted) fails.
  const error = stopped && !exit.error ? undefined : toolExitError(MYSQL_TOOLS, command, what, exit);
  if (error) throw error;
}
