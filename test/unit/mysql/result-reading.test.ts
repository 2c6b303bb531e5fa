/**
 * Reading a query's rows off the socket (result-scanner.ts, result-rows.ts), on answers built
 * byte for byte as the server frames them and delivered in reads of every size: the rows of each
 * result exactly, a row split across reads or over 16 MB put together, the query's last packet
 * handed back with what follows it, and the read-ahead holding the socket.
 */
import { packetsOf } from '../../../drivers/mysql/shared/framed-batch';
import { ResultRows, type ReadAheadHolder } from '../../../drivers/mysql/shared/result-rows';
import { ResultScanner, type ScanTarget } from '../../../drivers/mysql/shared/result-scanner';
import { BATCH, packRow } from '../../../drivers/mysql/shared/row-packet';
import type { FramedBatch } from '../../../drivers/mysql/shared/framed-batch';

const MORE_RESULTS = 0x0008;

/** A protocol packet: 3-byte payload length, sequence id, payload. */
function framed(payload: Buffer, sequence = 1): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence & 0xff;
  return Buffer.concat([header, payload]);
}

const eof = (status = 0x0002) => framed(Buffer.from([0xfe, 0, 0, status & 0xff, status >> 8]));
const ok = (status = 0x0002) => framed(Buffer.from([0x00, 0, 0, status & 0xff, status >> 8, 0, 0]));
const err = (message: string) => framed(Buffer.concat([Buffer.from([0xff, 0x7a, 0x04]), Buffer.from(`#42S02${message}`)]));
const row = (...values: Array<string | null>) => packRow(values.map((v) => (v === null ? null : Buffer.from(v))));

/** One result as the server sends it: column count, definitions, EOF, the rows, EOF (`status`). */
function result(columns: number, rows: Buffer[], status = 0x0002): Buffer {
  const definitions = Array.from({ length: columns }, (_, i) => framed(Buffer.from(`\x03def\x00\x01t\x01t\x02c${i}\x02c${i}\x0c\x21\x00`)));
  return Buffer.concat([framed(Buffer.from([columns])), ...definitions, eof(), ...rows.map((r) => framed(r)), eof(status)]);
}

/** What a scanner reports, as a reader would keep it. */
class Recorder implements ScanTarget {
  results: Buffer[][] = [];
  ended = 0;
  withoutRows = 0;
  handedBack: Buffer | undefined;
  problem: string | undefined;
  resultStarted(): void { this.results.push([]); }
  rows(buffer: Buffer, at: number, lengths: number[]): void {
    for (const length of lengths) {
      this.results[this.results.length - 1].push(Buffer.from(buffer.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
  }
  /** Per ended result, whether its end said another result follows. */
  followed: boolean[] = [];
  resultEnded(more: boolean): void { this.ended += 1; this.followed.push(more); }
  resultWithoutRows(): void { this.withoutRows += 1; }
  final(buffer: Buffer, at: number): void { this.handedBack = Buffer.concat([this.handedBack ?? Buffer.alloc(0), buffer.subarray(at)]); }
  protocolError(message: string): void { this.problem = message; }
}

/** `answer` read by a new scanner in reads of `size` bytes. */
function scanInReads(answer: Buffer, size: number): Recorder {
  const recorder = new Recorder();
  const scanner = new ResultScanner(recorder);
  for (let at = 0; at < answer.length; at += size) scanner.execute(answer.subarray(at, at + size));
  return recorder;
}

describe('ResultScanner (a query\'s answer framed off the socket)', () => {
  const first = [row('1', 'a'), row('2', null), row('3', 'x'.repeat(300)), row('4', '')];
  const second = [row('only')];
  const answer = Buffer.concat([result(2, first, 0x0002 | MORE_RESULTS), result(1, [], 0x0002 | MORE_RESULTS), result(1, second)]);
  const last = eof();

  it('finds every result\'s rows exactly, in reads of every size, and hands back the last packet', () => {
    for (const size of [1, 2, 3, 4, 5, 7, 13, 64, 301, 1000, answer.length]) {
      // Act
      const seen = scanInReads(answer, size);

      // Assess
      expect(seen.results.map((rows) => rows.map((r) => r.toString('hex')))).toEqual([first, [], second].map((rows) => rows.map((r) => r.toString('hex'))));
      expect(seen.ended).toBe(3);
      expect(seen.handedBack?.equals(last)).toBe(true);
      expect(seen.problem).toBeUndefined();
    }
  });

  it('hands back the bytes that follow the last packet too, whatever read they come in', () => {
    // Prepare: the next command's answer already behind this one
    const next = ok();

    // Act
    const seen = scanInReads(Buffer.concat([result(1, second), next]), 3);

    // Assess
    expect(seen.handedBack?.equals(Buffer.concat([last, next]))).toBe(true);
  });

  it('puts together a row over 16 MB from its protocol packets', () => {
    // Prepare: a payload of 16 MB + 10 bytes goes as a full packet and one of 10 bytes
    const long = row('9', 'L'.repeat(0xffffff));
    const parts = [framed(long.subarray(0, 0xffffff), 1), framed(long.subarray(0xffffff), 2)];
    const answer = Buffer.concat([framed(Buffer.from([2])), framed(Buffer.from('def')), framed(Buffer.from('def')), eof(), framed(row('8', 'short')), ...parts, framed(row('10', 'after')), eof()]);

    // Act
    const seen = scanInReads(answer, 65_536);

    // Assess
    expect(seen.results[0].map((r) => r.length)).toEqual([row('8', 'short').length, long.length, row('10', 'after').length]);
    expect(seen.results[0][1].equals(long)).toBe(true);
  });

  it('stops at an ERR packet among the rows and hands it back: the rows before it are the result\'s', () => {
    // Prepare
    const failing = Buffer.concat([framed(Buffer.from([1])), framed(Buffer.from('def')), eof(), framed(row('1')), err('gone')]);

    // Act
    const seen = scanInReads(failing, 5);

    // Assess
    expect(seen.results).toEqual([[row('1')]]);
    expect(seen.ended).toBe(0);
    expect(seen.handedBack?.equals(err('gone'))).toBe(true);
  });

  it('says at each result\'s end whether another result follows (a reader fails a query whose last statement\'s result is not its last)', () => {
    // Act
    const seen = scanInReads(answer, 7);

    // Assess
    expect(seen.followed).toEqual([true, true, false]);
  });

  it('reports a statement answered without rows, and one ending the query', () => {
    // Act
    const seen = scanInReads(Buffer.concat([ok(0x0002 | MORE_RESULTS), result(1, second, 0x0002 | MORE_RESULTS), ok()]), 4);

    // Assess
    expect(seen.withoutRows).toBe(2);
    expect(seen.results).toEqual([second]);
    expect(seen.handedBack?.equals(ok())).toBe(true);
  });

  it('refuses an answer that is not a result set (no EOF after the column definitions), and hands nothing back after it, in reads of every size', () => {
    const broken = Buffer.concat([framed(Buffer.from([1])), framed(Buffer.from('def')), framed(row('1')), eof(), ok()]);
    for (const size of [1, 2, 3, 4, 5, 7, 100]) {
      // Act
      const seen = scanInReads(broken, size);

      // Assess
      expect(seen.problem).toMatch(/EOF packet after the column definitions/);
      expect(seen.handedBack).toBeUndefined();
    }
  });
});

/** A holder that records whether the socket is held. */
class FakeSocket implements ReadAheadHolder {
  held: ResultRows | undefined;
  holdSocketFor(rows: ResultRows): void { this.held ??= rows; }
  releaseSocketFor(rows: ResultRows): void { if (this.held === rows) this.held = undefined; }
}

/** `packets` as one read's run, handed to `rows`. */
function receive(rows: ResultRows, packets: Buffer[]): void {
  const buffer = Buffer.concat(packets.map((p) => framed(p)));
  rows.receive({ buffer, at: 0, lengths: packets.map((p) => p.length), next: 0 }, packets.reduce((sum, p) => sum + p.length, 0));
}

const hex = (batch: FramedBatch) => [...packetsOf(batch)].map((p) => p.toString('hex'));
const MiB = 1024 * 1024;


describe('ResultRows (a result\'s rows, taken in batches)', () => {
  it('gives the rows in order across reads, a batch bounded in rows and in bytes, a wider row a batch of its own', async () => {
    // Prepare
    const rows = new ResultRows(new FakeSocket(), { rows: 1000, bytes: 10 * MiB });
    const packets = Array.from({ length: 7 }, (_, i) => row(String(i), 'x'.repeat(i === 4 ? 5000 : 10)));
    receive(rows, packets.slice(0, 3));
    receive(rows, packets.slice(3));
    rows.end();

    // Act
    const batches = [await rows.take({ rows: 2, bytes: MiB }), await rows.take({ rows: 10, bytes: 100 }), await rows.take({ rows: 10, bytes: 100 }), await rows.take({ rows: 10, bytes: 100 }), await rows.take({ rows: 10, bytes: 100 })];

    // Assess
    expect(batches.map((b) => b.count)).toEqual([2, 2, 1, 2, 0]);
    expect(batches.flatMap(hex)).toEqual(packets.map((p) => p.toString('hex')));
    expect(batches[2].bytes).toBe(packets[4].length);
  });

  it('holds the socket once its read-ahead is buffered, and lets it go once taken below it', async () => {
    // Prepare
    const socket = new FakeSocket();
    const rows = new ResultRows(socket, { rows: 100, bytes: 2 * MiB });

    // Act
    receive(rows, [Buffer.alloc(MiB, 1)]);
    const heldAfterOne = socket.held !== undefined;
    receive(rows, [Buffer.alloc(MiB, 2)]);
    const heldAfterTwo = socket.held === rows;
    await rows.take({ rows: 1, bytes: 4 * MiB });

    // Assess
    expect([heldAfterOne, heldAfterTwo, socket.held]).toEqual([false, true, undefined]);
  });

  it('takes, when asked for whole batches, a small result\'s rows in one batch however many reads they came in; a full batch or read-ahead ends the wait', async () => {
    // Prepare
    const socket = new FakeSocket();
    const packets = Array.from({ length: 5 }, (_, i) => row(String(i)));
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    /** The batch `rows` gives a whole take of `limit` with `packets` received two at a time (the reader's turn between reads), before the result ends. */
    const takenInReads = async (rows: ResultRows, limit: number) => {
      const taking = rows.take({ rows: limit, bytes: MiB }, undefined, { whole: true });
      for (let at = 0; at < packets.length; at += 2) {
        receive(rows, packets.slice(at, at + 2));
        await turn();
      }
      rows.end();
      return taking;
    };

    // Act
    const small = await takenInReads(new ResultRows(socket, { rows: 100, bytes: MiB }), 10);
    const uptoBatch = await takenInReads(new ResultRows(socket, { rows: 100, bytes: MiB }), 3);
    const uptoReadAhead = await takenInReads(new ResultRows(socket, { rows: 3, bytes: MiB }), 10);
    const asArrived = new ResultRows(socket, { rows: 100, bytes: MiB });
    const taking = asArrived.take({ rows: 10, bytes: MiB });
    receive(asArrived, packets.slice(0, 2));
    await turn();
    receive(asArrived, packets.slice(2));

    // Assess
    expect(hex(small)).toEqual(packets.map((p) => p.toString('hex')));
    expect(uptoBatch.count).toBe(3);
    expect(uptoReadAhead.count).toBe(4);
    expect((await taking).count).toBe(2);
  });

  it('lets the socket go when closed, and drops what comes after (the connection reads to the result\'s end)', async () => {
    // Prepare
    const socket = new FakeSocket();
    const rows = new ResultRows(socket, { rows: 1, bytes: MiB });
    receive(rows, [row('1'), row('2')]);

    // Act
    rows.close();
    receive(rows, [row('3')]);

    // Assess
    expect(socket.held).toBeUndefined();
    expect(await rows.hasMore()).toBe(false);
    expect((await rows.take({ rows: 10, bytes: MiB })).count).toBe(0);
  });

  it('fails its reader with the query\'s error, even with rows buffered, and lets the socket go', async () => {
    // Prepare
    const socket = new FakeSocket();
    const rows = new ResultRows(socket, { rows: 1, bytes: MiB });
    receive(rows, [row('1')]);
    const waiting = new ResultRows(socket, { rows: 1, bytes: MiB });
    const taking = waiting.take({ rows: 10, bytes: MiB });

    // Act
    rows.fail(new Error('connection lost'));
    waiting.fail(new Error('connection lost'));

    // Assess
    await expect(rows.take({ rows: 10, bytes: MiB })).rejects.toThrow('connection lost');
    await expect(taking).rejects.toThrow('connection lost');
    expect(socket.held).toBeUndefined();
  });
});

/** `packets` received in reads of `perRead` packets, then the result's end. */
function received(packets: Buffer[], perRead: number): ResultRows {
  const rows = new ResultRows(new FakeSocket(), { rows: Number.MAX_SAFE_INTEGER, bytes: Number.MAX_SAFE_INTEGER });
  for (let at = 0; at < packets.length; at += perRead) receive(rows, packets.slice(at, at + perRead));
  rows.end();
  return rows;
}

/** Every batch of `rows` until the end, taken with `limit`. */
async function batchesOf(rows: ResultRows, limit = BATCH): Promise<FramedBatch[]> {
  const batches: FramedBatch[] = [];
  for (let batch = await rows.take(limit); batch.count > 0; batch = await rows.take(limit)) batches.push(batch);
  return batches;
}

describe('ResultRows batches (as the dump takes them)', () => {
  /** A packet of `size` bytes, told apart by its first bytes. */
  const packet = (index: number, size: number): Buffer => {
    const bytes = Buffer.alloc(size, index & 0xff);
    bytes.writeUInt32LE(index, 0);
    return bytes;
  };

  it('never exceed the batch bytes, except a single row wider than that, and keep every row in order', async () => {
    // Prepare: narrow rows, rows of 1–4 MB, rows wider than a batch, in a mix.
    const sizes = [
      ...Array.from({ length: 3000 }, (_, i) => 20 + (i % 300)),
      ...Array.from({ length: 40 }, (_, i) => 1_000_000 + ((i * 7919) % 3_000_000)),
      BATCH.bytes + 1, 6 * MiB, 8,
      ...Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 3 * MiB : 1_500_000)),
      BATCH.bytes, 4, BATCH.bytes - 1,
    ];
    const packets = sizes.map((size, i) => packet(i, size));

    // Act
    const batches = await batchesOf(received(packets, 7));

    // Assess
    const taken = batches.flatMap((b) => [...packetsOf(b)]);
    expect(taken).toHaveLength(packets.length);
    expect(taken.every((p, i) => p.equals(packets[i]))).toBe(true);
    for (const batch of batches) {
      expect(batch.bytes).toBe([...packetsOf(batch)].reduce((sum, p) => sum + p.length, 0));
      expect(batch.count).toBeLessThanOrEqual(BATCH.rows);
      if (batch.count > 1) expect(batch.bytes).toBeLessThanOrEqual(BATCH.bytes);
    }
    expect(batches.filter((b) => b.bytes > BATCH.bytes).map((b) => b.count)).toEqual([1, 1]);
  });

  it('closes a batch of narrow rows at the batch rows', async () => {
    // Prepare
    const packets = Array.from({ length: 2 * BATCH.rows + 452 }, (_, i) => packet(i, 100));

    // Act
    const batches = await batchesOf(received(packets, 300));

    // Assess
    expect(batches.map((b) => b.count)).toEqual([BATCH.rows, BATCH.rows, 452]);
  });

  it('keeps a row that did not fit for the next batch, and knows whether one follows', async () => {
    // Prepare
    const packets = [packet(0, 600), packet(1, 600), packet(2, 10)];
    const rows = received(packets, 3);
    const limit = { rows: 10, bytes: 1000 };

    // Act
    const first = await rows.take(limit);
    const more = await rows.hasMore();
    const second = await rows.take(limit);
    const after = await rows.hasMore();

    // Assess
    expect(hex(first)).toEqual([packets[0].toString('hex')]);
    expect(more).toBe(true);
    expect(hex(second)).toEqual([packets[1], packets[2]].map((p) => p.toString('hex')));
    expect(after).toBe(false);
  });
});

describe('ResultRows waiters', () => {
  it('wakes every reader waiting at once: a take and a hasMore both see the row', async () => {
    // Prepare
    const rows = new ResultRows(new FakeSocket(), { rows: 100, bytes: MiB });
    const more = rows.hasMore();
    const taking = rows.take({ rows: 10, bytes: MiB });

    // Act
    receive(rows, [row('1')]);

    // Assess
    await expect(more).resolves.toBe(true);
    expect((await taking).count).toBe(1);
  });
});
