import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { JuteStream } from '../../../drivers/zookeeper/files/jute-stream';
import { readTxnLog, type TxnLogEntry } from '../../../drivers/zookeeper/files/txn-log';
import { OpCode, parseTxn } from '../../../drivers/zookeeper/files/txn-records';
import { tempDir } from '../../harness/test-run';
import { create, del, JuteWriter, OPEN, setData, txnBytes, txnLogFile } from './jute-writer';

let dir: string;
beforeAll(async () => { dir = await tempDir('zk-txnlog'); });

async function logFile(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

const three = () => [
  txnBytes({ zxid: 1n, type: OpCode.create }, create('/a', 'x')),
  txnBytes({ zxid: 2n, type: OpCode.setData }, setData('/a', 'y')),
  txnBytes({ zxid: 3n, type: OpCode.delete }, del('/a')),
];

describe('txn records', () => {
  it('parses a multi part by part, a TTL create, a closeSession with and without its record, and a V0 create', () => {
    // Prepare
    const part = (type: number, record: (w: JuteWriter) => void) => new JuteWriter().int(type).buffer((() => { const w = new JuteWriter(); record(w); return w.bytes(); })());
    const multi = txnBytes({ zxid: 5n, type: OpCode.multi }, (w) => {
      w.int(3);
      w.raw(part(OpCode.create, create('/m', 'd')).bytes());
      w.raw(part(OpCode.check, (c) => { c.string('/m').int(0); }).bytes());
      w.raw(part(OpCode.setData, setData('/m', 'e')).bytes());
    });
    const ttl = txnBytes({ zxid: 6n, type: OpCode.createTTL }, (w) => { w.string('/t').buffer(Buffer.from('t')).acls(OPEN).int(0).long(60_000n); });
    const close = txnBytes({ zxid: 7n, type: OpCode.closeSession }, (w) => { w.int(1).string('/e'); });
    const closeBare = txnBytes({ zxid: 8n, type: OpCode.closeSession }, () => undefined);
    const v0 = txnBytes({ zxid: 9n, type: OpCode.create }, (w) => { w.string('/v').buffer(Buffer.from('v')).acls(OPEN).bool(false); }, false);

    // Act + Assess
    expect(parseTxn(multi).record).toEqual({ op: 'multi', txns: [
      { op: 'create', path: '/m', data: Buffer.from('d'), acl: OPEN, ephemeral: false, parentCVersion: 1 },
      { op: 'check', path: '/m', version: 0 },
      { op: 'setData', path: '/m', data: Buffer.from('e'), version: 1 },
    ] });
    expect(parseTxn(multi).digest).toEqual({ version: 2, treeDigest: 42n });
    expect(parseTxn(ttl).record).toMatchObject({ op: 'createTTL', path: '/t', ttl: 60_000n });
    expect(parseTxn(close).record).toEqual({ op: 'closeSession', paths2Delete: ['/e'] });
    expect(parseTxn(closeBare).record).toEqual({ op: 'closeSession' });
    expect(parseTxn(closeBare).digest).toEqual({ version: 2, treeDigest: 42n });
    expect(parseTxn(v0).record).toMatchObject({ op: 'create', path: '/v', parentCVersion: -1 });
  });
});

describe('readTxnLog', () => {
  it('reads every txn of an artifact followed by zeros, or ending right after the last txn', async () => {
    // Prepare
    const padded = await logFile('log.1', txnLogFile(three()));
    const exact = await logFile('log.1.exact', txnLogFile(three(), 0));
    const seen: TxnLogEntry[] = [];

    // Act
    const scan = await readTxnLog(padded, { mode: 'artifact', onTxn: (e) => { seen.push(e); } });
    const exactScan = await readTxnLog(exact, { mode: 'artifact' });

    // Assess
    expect(seen.map((e) => [e.header.zxid, e.record.op])).toEqual([[1n, 'create'], [2n, 'setData'], [3n, 'delete']]);
    expect(scan).toMatchObject({ txnCount: 3, firstZxid: 1n, lastZxid: 3n, end: 'zero-padding', header: { magic: 'ZKLG', version: 2, dbid: 0n } });
    expect(exactScan).toMatchObject({ txnCount: 3, end: 'end-of-file', validLength: scan.validLength });
    expect(seen[2].end).toBe(scan.validLength);
  });

  it('live: stops at the last complete txn and says where; artifact: refuses the same bytes naming file and byte', async () => {
    // Prepare
    const whole = txnLogFile(three(), 0);
    const secondEnds = 16 + [0, 1].reduce((sum, i) => sum + 8 + 4 + three()[i].length + 1, 0);
    const torn = await logFile('log.torn', Buffer.concat([whole.subarray(0, whole.length - 5), Buffer.alloc(100)]));
    const cut = await logFile('log.cut', whole.subarray(0, whole.length - 5));
    const flipped = Buffer.from(whole);
    flipped[secondEnds + 20] ^= 1;
    const bad = await logFile('log.bad', flipped);

    // Act
    const live = await readTxnLog(torn, { mode: 'live' });
    const liveBad = await readTxnLog(bad, { mode: 'live' });

    // Assess
    expect(live).toMatchObject({ lastZxid: 2n, validLength: secondEnds, end: 'partial-txn', stoppedAt: { offset: secondEnds } });
    expect(liveBad).toMatchObject({ lastZxid: 2n, end: 'bad-checksum' });
    for (const file of [torn, cut, bad]) {
      await expect(readTxnLog(file, { mode: 'artifact' })).rejects.toMatchObject({ name: 'PermanentError', code: 'ZK_CORRUPT_LOG', message: expect.stringContaining(`${file} is corrupt at byte ${secondEnds}`) });
    }
  });

  it('refuses a file that is not a txn log, and a txn type it does not know', async () => {
    // Prepare
    const snap = Buffer.from(txnLogFile(three()));
    snap.write('ZKSN', 0, 'latin1');
    const notLog = await logFile('log.snap', snap);
    const short = await logFile('log.short', Buffer.from('ZKLG'));
    const unknown = await logFile('log.unknown', txnLogFile([txnBytes({ zxid: 1n, type: 99 }, () => undefined)]));

    // Act + Assess
    await expect(readTxnLog(notLog, { mode: 'live' })).rejects.toMatchObject({ code: 'ZK_BAD_HEADER', message: expect.stringContaining(notLog) });
    await expect(readTxnLog(short, { mode: 'artifact' })).rejects.toMatchObject({ code: 'ZK_BAD_HEADER' });
    await expect(readTxnLog(unknown, { mode: 'artifact' })).rejects.toMatchObject({ code: 'ZK_UNSUPPORTED_TXN' });
  });
});

describe('JuteStream', () => {
  it('reads records across chunk boundaries, one byte at a time', async () => {
    // Prepare
    const bytes = new JuteWriter().int(7).string('héllo').long(-2n).buffer(Buffer.alloc(3000, 9)).bytes();
    async function* oneByOne() { for (const b of bytes) yield Buffer.from([b]); }
    const stream = new JuteStream(oneByOne(), { checksum: true });

    // Act
    const first = await stream.read((r) => [r.readInt(), r.readUstring(), r.readLong()]);
    const second = await stream.read((r) => r.readBuffer());

    // Assess
    expect(first).toEqual([7, 'héllo', -2n]);
    expect(second).toEqual(Buffer.alloc(3000, 9));
    expect(await stream.atEnd()).toBe(true);
    expect(stream.offset).toBe(bytes.length);
  });
});
