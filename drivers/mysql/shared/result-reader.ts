/**
 * Reads the rows of a query of SELECTs straight off the connection's socket: what a dump reads.
 * mysql2 would turn every row into a packet object, a call through its command, an event and a
 * view of the bytes (~1 µs of the reading thread per row, most of a dump's reading CPU); here the
 * received buffers are walked header to header (result-scanner.ts) and kept as they are, and a
 * batch of rows is copied out of them a run at a time (result-rows.ts), for the encoder threads.
 *
 * The query is a command in mysql2's queue like any other (commands before and after it run in
 * order): when its turn comes it sends the query and reads the connection's bytes itself until
 * the packet that ends the query, which it hands back to mysql2's own packet parser with
 * everything after it, so mysql2 finishes the command, turns an ERR packet into its usual error
 * and goes on with the next. The mysql2 internals this relies on (the connection's
 * `packetParser`, `sequenceId`, `addCommand`, a command's `execute` and `onResult`) are
 * checked before a query is queued, and covered by tests against a real server; package.json
 * pins mysql2's version for them.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { callbackConnection } from './connection';
import { ResultRows, type ReadAheadHolder } from './result-rows';
import { ResultScanner, type ScanTarget } from './result-scanner';
import { READ_AHEAD, type RowBudget } from './row-packet';

/** What of mysql2's callback connection this reads and sets. */
interface CoreConnection {
  packetParser: { execute(chunk: Buffer): void };
  sequenceId: number;
  clientEncoding: string;
  serverCapabilityFlags?: number;
  config: { compress?: boolean; clientFlags: number };
  stream: { pause(): void; resume(): void; destroy(error?: Error): void };
  addCommand(command: unknown): unknown;
  write(buffer: Buffer): void;
}

/** A packet as mysql2's parser hands it to a command. */
interface Mysql2Packet {
  isError(): boolean;
  asError(encoding: string): Error;
}

const COM_QUERY = 0x03;
const CLIENT_QUERY_ATTRIBUTES = 0x08000000;

const unsupported = (what: string) => new PermanentError(`the dump reads rows off the connection itself, and ${what}: this mysql2 version or setting is not supported (see result-reader.ts)`, { code: 'UNSUPPORTED_CLIENT', engine: 'mysql' });

/** The callback connection under mysql2's promise wrapper, with what this reads and sets of it. */
function coreOf(connection: Connection): CoreConnection {
  const core = callbackConnection(connection) as unknown as CoreConnection | undefined;
  if (core === undefined || typeof core.addCommand !== 'function' || typeof core.packetParser?.execute !== 'function' || typeof core.write !== 'function') {
    throw unsupported('mysql2 no longer exposes the connection\'s packet parser');
  }
  return core;
}

/** The COM_QUERY packet for `sql` (sequence id 0), with no query attributes. */
function queryPacket(sql: string, withAttributes: boolean): Buffer {
  const text = Buffer.from(sql, 'utf8');
  const prefix = withAttributes ? [COM_QUERY, 0, 1] : [COM_QUERY]; // no parameters, one parameter set
  const length = prefix.length + text.length;
  if (length >= 0xffffff) throw new PermanentError(`a dump query of ${text.length} bytes is too long to send`, { code: 'MYSQL_DUMP_FAILED', engine: 'mysql' });
  const packet = Buffer.allocUnsafe(4 + length);
  packet.writeUIntLE(length, 0, 3);
  packet[3] = 0;
  packet.set(prefix, 4);
  text.copy(packet, 4 + prefix.length);
  return packet;
}

/**
 * The rows of each of `statements` (SELECTs, sent as one query: the connection runs multiple
 * statements), each result's rows of its own, in order. Each reads ahead at most `readAhead`
 * (rows and bytes, and what one read of the socket brings) before the socket pauses; one result
 * receives rows at a time, so rows wait in the server, not here.
 *
 * An error fails the result of the statement that was running and those after it (the ones
 * before end with all their rows); so does a lost connection, and a query that returns fewer
 * results than it has statements. One that returns more (a procedure's results, say) fails every
 * result: which rows are whose cannot be told. A result whose reader closes it has the rest of its
 * rows read and dropped; the connection is usable once the query has ended.
 */
export function readResults(connection: Connection, statements: string[], readAhead: RowBudget = READ_AHEAD): ResultRows[] {
  const core = coreOf(connection);
  const query = new RawQuery(core, statements, readAhead);
  core.addCommand(query);
  return query.results;
}

/** One result's rows: {@link readResults} of one statement. */
export function readResult(connection: Connection, sql: string, readAhead: RowBudget = READ_AHEAD): ResultRows {
  return readResults(connection, [sql], readAhead)[0];
}

/** The query as a mysql2 command, and as what its scanner and its results report to. */
class RawQuery implements ScanTarget, ReadAheadHolder {
  readonly results: ResultRows[];
  /** Results begun (or answered without rows) so far: rows go to the last begun. */
  private begun = 0;
  /** Results ended (or answered without rows) so far: each has all its rows. */
  private finished = 0;
  private holding: ResultRows | undefined;
  private scanner: ResultScanner | undefined;
  private parser: CoreConnection['packetParser'] | undefined;
  /** The packet that ends the query has gone back to mysql2 (what follows it may come after). */
  private handedBack = false;

  constructor(private readonly core: CoreConnection, private readonly statements: string[], readAhead: RowBudget) {
    this.results = statements.map(() => new ResultRows(this, readAhead));
  }

  /**
   * mysql2 runs its queue's commands through this: first without a packet (the command's turn),
   * then with the packet {@link final} handed back. True when the command is done.
   */
  execute(packet: Mysql2Packet | undefined): boolean {
    if (packet === undefined) return this.start();
    if (packet.isError()) this.failFrom(this.finished, packet.asError(this.core.clientEncoding));
    else this.endAll();
    return true;
  }

  /** What mysql2 logs of a command with `debug` on. */
  stateName(): string {
    return this.handedBack ? 'handed back' : this.scanner ? 'reading the socket' : 'queued';
  }

  /** mysql2 reports here what ends the command otherwise: a lost connection, a closed one. */
  onResult(error: Error): void {
    this.restoreParser();
    this.failFrom(this.finished, error);
  }

  private start(): boolean {
    if (this.core.config.compress) {
      this.failFrom(0, unsupported('the connection uses the compressed protocol'));
      return true;
    }
    if (this.core.clientEncoding !== 'utf8') {
      this.failFrom(0, unsupported(`the connection's encoding is ${this.core.clientEncoding}, not utf8`));
      return true;
    }
    const attributes = (this.core.config.clientFlags & (this.core.serverCapabilityFlags ?? 0) & CLIENT_QUERY_ATTRIBUTES) !== 0;
    this.scanner = new ResultScanner(this);
    this.parser = this.core.packetParser;
    this.core.packetParser = this.scanner;
    this.core.sequenceId = 1;
    this.core.write(queryPacket(this.statements.join(';\n'), attributes));
    return false;
  }

  resultStarted(): void {
    this.begun += 1;
    if (this.begun > this.results.length) this.failFrom(0, this.miscounted());
  }

  rows(buffer: Buffer, at: number, lengths: number[], bytes: number): void {
    this.results[this.begun - 1]?.receive({ buffer, at, lengths, next: 0 }, bytes);
  }

  resultEnded(more: boolean): void {
    if (more && this.begun >= this.results.length) {
      // The last statement's result is not the query's last: failed before its reader can take it whole.
      this.failFrom(0, this.moreResultsThanStatements());
      return;
    }
    this.results[this.begun - 1]?.end();
    this.finished = this.begun;
  }

  resultWithoutRows(): void {
    const index = this.begun;
    this.begun = this.finished = index + 1;
    if (this.begun > this.results.length) this.failFrom(0, this.miscounted());
    this.results[index]?.fail(new PermanentError(`statement ${index + 1} of ${this.statements.length} returned no rows (not a SELECT)`, { code: 'MYSQL_DUMP_FAILED', engine: 'mysql' }));
  }

  final(buffer: Buffer, at: number): void {
    if (!this.handedBack) {
      this.handedBack = true;
      this.releaseSocket();
      this.restoreParser();
      this.core.sequenceId = buffer[at + 3]; // the ending packet's: mysql2 checks it, counting from there
    }
    this.core.packetParser.execute(buffer.subarray(at)); // mysql2's, or the next command's that started meanwhile
  }

  protocolError(message: string): void {
    this.restoreParser();
    const error = new PermanentError(`the server's answer to a dump query could not be read: ${message}`, { code: 'MYSQL_DUMP_FAILED', engine: 'mysql' });
    this.failFrom(0, error);
    // The socket destroyed, not the connection closed: a close is on purpose to mysql2, which then
    // never tells the commands queued behind this one; a lost socket fails each of them.
    this.core.stream.destroy(error);
  }

  holdSocketFor(rows: ResultRows): void {
    if (this.holding !== undefined || this.scanner?.done) return;
    this.holding = rows;
    this.core.stream.pause();
  }

  releaseSocketFor(rows: ResultRows): void {
    if (this.holding === rows) this.releaseSocket();
  }

  private releaseSocket(): void {
    if (this.holding === undefined) return;
    this.holding = undefined;
    this.core.stream.resume();
  }

  private restoreParser(): void {
    if (this.parser !== undefined && this.core.packetParser === this.scanner) this.core.packetParser = this.parser;
  }

  /** The query has ended: every result not begun is missing. */
  private endAll(): void {
    if (this.finished < this.results.length) this.failFrom(this.finished, this.miscounted());
  }

  private miscounted(): PermanentError {
    if (this.begun > this.results.length) return this.moreResultsThanStatements();
    return new PermanentError(`the server returned ${this.finished} results for ${this.statements.length} statements`, { code: 'MYSQL_DUMP_FAILED', engine: 'mysql' });
  }

  private moreResultsThanStatements(): PermanentError {
    return new PermanentError(`the server returned more results than its ${this.statements.length} statements: which rows are whose cannot be told`, { code: 'MYSQL_DUMP_FAILED', engine: 'mysql' });
  }

  /** Fails the results from `index` on (those before have all their rows), and lets go of the socket. */
  private failFrom(index: number, error: unknown): void {
    this.releaseSocket();
    for (const result of this.results.slice(index)) result.fail(error);
  }
}
