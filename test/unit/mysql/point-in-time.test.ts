/** Point-in-time replay's pure parts: which archived files, the tool's argv, and reading its output. */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BackupRecord, StoredArtifact } from '../../../core/driver/types';
import type { MysqlFacts } from '../../../drivers/mysql/shared/layout';
import {
  applyArgv, planReplay, replayArgv, replayScope, sameHistory, stopDatetime,
} from '../../../drivers/mysql/point-in-time/point-in-time';
import { BinlogEventScanner, parseEventHeader } from '../../../drivers/mysql/point-in-time/binlog-events';

const stored = (backupId: string, file: string, size = 100): StoredArtifact => ({
  name: `binlog/${file.replace('.', '%2E')}`, key: `backups/mysql/db/${backupId}/data/default/binlog/${file}`, size, sha256: 'a'.repeat(64),
});
const archive = (backupId: string, files: string[]) => ({ backupId, binlogs: files, artifacts: files.map((f) => stored(backupId, f)) });

describe('planReplay', () => {
  it('takes each file from the newest archive holding it, from the backup\'s file on, in order', () => {
    // Prepare
    const archives = [
      archive('20261121T120000Z-aaaaaa', ['binlog.000001', 'binlog.000002']),
      archive('20261121T130000Z-bbbbbb', ['binlog.000001', 'binlog.000002', 'binlog.000003']),
    ];

    // Act
    const plan = planReplay(archives, 'binlog.000002');

    // Assess
    expect(plan.map((p) => `${p.file}@${p.backupId}`)).toEqual(['binlog.000002@20261121T130000Z-bbbbbb', 'binlog.000003@20261121T130000Z-bbbbbb']);
    expect(plan[0].artifact.key).toMatch(/130000Z-bbbbbb/);
  });

  it('refuses a file whose end no archive holds: copied while it was the current one, and purged before the next backup', () => {
    // Prepare: B1 copied 000001 while current; 000001 was purged before B2, which copied 000002 on
    const purged = [archive('20261121T120000Z-aaaaaa', ['binlog.000001']), archive('20261121T130000Z-bbbbbb', ['binlog.000002'])];
    const copiedAgain = [archive('20261121T120000Z-aaaaaa', ['binlog.000001']), archive('20261121T130000Z-bbbbbb', ['binlog.000001', 'binlog.000002'])];

    // Assess
    expect(() => planReplay(purged, 'binlog.000001')).toThrow(/may lack the end of binlog\.000001: backup 20261121T120000Z-aaaaaa copied it while it was the server's current file/);
    expect(planReplay(purged.slice(0, 1), 'binlog.000001').map((p) => p.file)).toEqual(['binlog.000001']); // the last file: replayed as far as it goes
    expect(planReplay(copiedAgain, 'binlog.000001').map((p) => `${p.file}@${p.backupId.slice(9, 15)}`)).toEqual(['binlog.000001@130000', 'binlog.000002@130000']);
  });

  it('leaves out archives taken after the numbering went back (RESET MASTER): their files reuse names of other contents', () => {
    // Prepare: B1 and B2 on one history; a RESET MASTER; B3 starts again at 000001
    const archives = [
      archive('20261121T120000Z-aaaaaa', ['binlog.000001', 'binlog.000002']),
      archive('20261121T130000Z-bbbbbb', ['binlog.000001', 'binlog.000002', 'binlog.000003']),
      archive('20261121T140000Z-cccccc', ['binlog.000001']),
    ];

    // Act
    const plan = planReplay(archives, 'binlog.000001');

    // Assess
    expect(plan.map((p) => `${p.file}@${p.backupId.slice(9, 15)}`)).toEqual(['binlog.000001@130000', 'binlog.000002@130000', 'binlog.000003@130000']);
  });

  it('leaves out the files after the last one the point needs: a gap among them is none', () => {
    // Prepare: 000003 is in no archive
    const archives = [archive('20261121T120000Z-aaaaaa', ['binlog.000001', 'binlog.000002']), archive('20261121T140000Z-cccccc', ['binlog.000004'])];

    // Assess
    expect(planReplay(archives, 'binlog.000001', 'binlog.000002').map((p) => p.file)).toEqual(['binlog.000001', 'binlog.000002']);
    expect(() => planReplay(archives, 'binlog.000001')).toThrow(/gap between binlog\.000002 and binlog\.000004/);
  });

  it('leaves out the backups taken after the binlog history started again: GTID position or file number gone back', () => {
    // Prepare: B1 and B2 on one history; B3 after a RESET MASTER whose files caught up in number, not in GTID; B4 after it
    const FACTS = { mode: 'logical', tables: [], databases: [], schema: [] };
    const backup = (backupId: string, binlogFile: string, gtid: string) => ({ backupId, consistency: { flavor: 'mariadb', serverVersion: '10.11.0', binlogFile, binlogPosition: 4, gtid, lockMs: 0, lock: 'none' }, facts: FACTS, artifacts: [] }) as unknown as BackupRecord;
    const backups = [backup('b1', 'binlog.000003', '0-1-8'), backup('b2', 'binlog.000004', '0-1-12'), backup('b3', 'binlog.000004', '0-1-3'), backup('b4', 'binlog.000005', '0-1-20')];

    // Assess
    expect(sameHistory(backups).map((b) => b.backupId)).toEqual(['b1', 'b2']);
    expect(sameHistory([backups[0], backup('b5', 'binlog.000001', '0-1-30')]).map((b) => b.backupId)).toEqual(['b1']);
    // Numbers and GTIDs caught up: the files' creation times tell the histories apart
    const archived = (b: BackupRecord, created: Record<string, string>) => ({ ...b, facts: { ...FACTS, binlogArchive: { created } } }) as unknown as BackupRecord;
    const first = archived(backup('c1', 'binlog.000003', '0-1-6'), { 'binlog.000003': '2026-12-05T10:00:00.000Z' });
    const again = archived(backup('c2', 'binlog.000004', '0-1-15'), { 'binlog.000003': '2026-12-05T11:00:00.000Z', 'binlog.000004': '2026-12-05T11:05:00.000Z' });
    const same = archived(backup('c3', 'binlog.000004', '0-1-15'), { 'binlog.000003': '2026-12-05T10:00:00.000Z', 'binlog.000004': '2026-12-05T11:05:00.000Z' });
    expect(sameHistory([first, again]).map((b) => b.backupId)).toEqual(['c1']);
    expect(sameHistory([first, same]).map((b) => b.backupId)).toEqual(['c1', 'c3']);
  });

  it('refuses no archive, a missing start file and a gap', () => {
    // Assess
    expect(() => planReplay([archive('20261121T120000Z-aaaaaa', [])], 'binlog.000001')).toThrow(/archived binary logs; take backups with archiveBinlogs/);
    expect(() => planReplay([archive('20261121T120000Z-aaaaaa', ['binlog.000003'])], 'binlog.000002')).toThrow(/do not include binlog\.000002/);
    expect(() => planReplay([archive('20261121T120000Z-aaaaaa', ['binlog.000001', 'binlog.000003'])], 'binlog.000001')).toThrow(/gap between binlog\.000001 and binlog\.000003/);
  });
});

describe('replay argv', () => {
  it('rounds the target time up to a whole UTC second', () => {
    // Assess
    expect(stopDatetime('2026-11-21T12:26:44.720Z')).toBe('2026-11-21 12:26:45');
    expect(stopDatetime('2026-11-21T12:26:44Z')).toBe('2026-11-21 12:26:44');
    expect(stopDatetime('2026-11-21T13:26:44.001+01:00')).toBe('2026-11-21 12:26:45');
  });

  it('starts at the backup\'s position and stops at the time or GTID, with renames and a database filter', () => {
    // Act
    const byTime = replayArgv({ startPosition: 925, stopDatetime: '2026-11-21 12:26:45', files: ['/s/a', '/s/b'] });
    const byGtid = replayArgv({ startPosition: 4, untilGtid: '0-1-75', rewriteDb: { shop: 'shop_copy' }, database: 'shop', files: ['/s/a'] });
    const unlogged = replayArgv({ startPosition: 4, untilGtid: '0-1-75', disableLogBin: true, files: ['/s/a'] });

    // Assess
    expect(byTime).toEqual(['--no-defaults', '--start-position=925', '--stop-datetime=2026-11-21 12:26:45', '/s/a', '/s/b']);
    expect(byGtid).toEqual(['--no-defaults', '--start-position=4', '--stop-position=0-1-75', '--rewrite-db=shop->shop_copy', '--database=shop', '/s/a']);
    expect(unlogged).toEqual(['--no-defaults', '--start-position=4', '--stop-position=0-1-75', '--disable-log-bin', '/s/a']);
    expect(applyArgv('/tmp/c.cnf')[0]).toBe('--defaults-file=/tmp/c.cnf');
  });
});

describe('replayScope', () => {
  const facts = (mode: MysqlFacts['mode'], databases: string[]): MysqlFacts => ({ mode, databases, tables: [], schema: [] });

  it('keeps a logical backup\'s database, filtered by its name in the binlog and renamed like the restore', () => {
    // Act
    const renamed = replayScope('b1', facts('logical', ['shop']), { shop: 'shop_copy' });
    const kept = replayScope('b1', facts('logical', ['shop']), {});

    // Assess: mariadb-binlog matches --database before it applies --rewrite-db
    expect(renamed).toEqual({ database: 'shop', rewriteDb: { shop: 'shop_copy' } });
    expect(kept).toEqual({ database: 'shop', rewriteDb: {} });
  });

  it('replays everything after a physical restore (the whole server was restored)', () => {
    // Assess
    expect(replayScope('b1', facts('physical', ['shop', 'crm']), {})).toEqual({});
  });

  it('refuses a logical backup of several databases, naming them and what to do instead', () => {
    // Act
    const refusing = () => replayScope('b1', facts('logical', ['shop', 'crm']), { crm: 'crm_copy' });

    // Assess
    expect(refusing).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' }));
    expect(refusing).toThrow(/logical backup of 2 databases \(shop, crm\).*without pointInTime.*physical backup/);
  });

  it('renames into any name mariadb-binlog --rewrite-db can carry: non-ASCII, quotes, dots', () => {
    expect(replayScope('b1', facts('logical', ['uni ☃ ünï']), { 'uni ☃ ünï': 'zïel☃`x`.\'y\'' }))
      .toEqual({ database: 'uni ☃ ünï', rewriteDb: { 'uni ☃ ünï': 'zïel☃`x`.\'y\'' } });
  });

  it.each([
    ['a new name with a space (the tool would replay into "new")', 'shop', 'new shop', /new name holds a blank/],
    ['a new name with a tab', 'shop', 'new\tshop', /new name holds a blank/],
    ['an old name holding the separator', 'a->b', 'c', /holds '->'/],
    ['an old name starting with a blank', ' shop', 'c', /starts with a blank/],
  ])('refuses a rename the tool cannot express: %s', (_what, from, to, why) => {
    // Act
    const refusing = () => replayScope('b1', facts('logical', [from]), { [from]: to });

    // Assess
    expect(refusing).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'UNSUPPORTED_RESTORE' }));
    expect(refusing).toThrow(why);
    expect(refusing).toThrow(/renameDatabases/);
  });
});

describe('reading the binlog tool\'s output', () => {
  const output = [
    '/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;',
    '# at 4',
    '#261121 12:10:06 server id 1  end_log_pos 256 CRC32 0x1d3b2c4a 	Start: binlog v 4, server v 10.11.19-MariaDB-log created 261121 12:10:06 at startup',
    '# at 421',
    '#261121 12:11:52 server id 1  end_log_pos 463 CRC32 0x37372409 	GTID 0-1-75 trans',
    "BINLOG '",
    "AAAA",
    "'/*!*/;",
    '#261121 12:11:53 server id 1  end_log_pos 600 CRC32 0x11111111 	Xid = 333',
    '#261121  9:01:02 server id 2  end_log_pos 700 CRC32 0x22222222 	GTID 1-2-9 ddl',
    '#261121 12:11:54 server id 1  end_log_pos 800 CRC32 0x33333333 	GTID 0-1-76 trans',
    '',
  ].join('\n');

  it('parses event headers (UTC), with their GTID', () => {
    // Act
    const header = parseEventHeader('#261121 12:11:52 server id 1  end_log_pos 463 CRC32 0x37372409 	GTID 0-1-75 trans');

    // Assess
    expect(header).toEqual({ at: new Date('2026-11-21T12:11:52Z'), serverId: 1, endPosition: 463, type: 'GTID', gtid: { domain: 0, server: 1, sequence: 75 } });
    expect(parseEventHeader('#261121 12:11:52 server id 1  end_log_pos 627 CRC32 0x1c68cb04 \tQuery\tthread_id=4\texec_time=0\terror_code=0\txid=5')).toMatchObject({ endPosition: 627, type: 'Query' });
    expect(parseEventHeader('# at 421')).toBeUndefined();
  });

  it('passes the output through unchanged while noting GTIDs, transactions and event times, across chunk borders', async () => {
    // Prepare
    const scanner = new BinlogEventScanner();
    const chunks = [output.slice(0, 150), output.slice(150, 333), output.slice(333)].map((c) => Buffer.from(c, 'latin1'));
    const received: Buffer[] = [];

    // Act
    await pipeline(Readable.from(chunks), scanner, new Writable({ write(chunk: Buffer, _e, done) { received.push(chunk); done(); } }));

    // Assess
    expect(Buffer.concat(received).toString('latin1')).toBe(output);
    expect(scanner.transactions).toBe(3);
    expect([...scanner.lastGtid.values()].map((g) => `${g.domain}-${g.server}-${g.sequence}`)).toEqual(['0-1-76', '1-2-9']);
    expect(scanner.firstEventAt?.toISOString()).toBe('2026-11-21T12:11:52.000Z');
    expect(scanner.lastEventAt?.toISOString()).toBe('2026-11-21T12:11:54.000Z');
  });
});
