/**
 * Cassandra 2.1 as this host runs it (drivers/cassandra): a 3-node cluster on 127.0.0.1–3, two
 * data directories per node, started from the npm distribution on JDK 17. nodetool sees three Up
 * and Normal nodes with the tokens they were given; rows written at QUORUM read back at QUORUM;
 * flush + snapshot hard-link every SSTable (2.1 names: `ks-table-ka-N-*`) under the tag in every
 * data directory of every node; clearsnapshot removes them; nodetool's failures are typed; the
 * nodes stop by their recorded pids.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { types, type Client } from 'cassandra-driver';
import { PermanentError, TransientError } from '../../../core/errors';
import { isAlive } from '../../../core/host/processes';
import { cassandraNodePid } from '../../../drivers/cassandra/node-process';
import {
  clearSnapshot, describeRing, listSnapshots, nodeStatus, refresh, snapshot, tokenOwnership, type NodetoolTarget,
} from '../../../drivers/cassandra/nodetool';
import { evenTokens } from '../../../drivers/cassandra/tokens';
import { freePort } from '../../harness/ports';
import { liveDataFiles, seedKeyspace, SEED_TABLES, spreadOverDataDirs, startTestCassandra, stopAllCassandra, type TestCassandra } from '../../harness/cassandra';

const KEYSPACE = 'shop';
const TABLES = Object.keys(SEED_TABLES);
const ROWS = 200;
const TAG = 'bk-test-1';
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
/** 2.1's SSTable component names: `<ks>-<table>-ka-<generation>-<Component>`. */
const SSTABLE_21 = new RegExp(`^${KEYSPACE}-(${TABLES.join('|')})-ka-\\d+-[A-Za-z0-9]+\\.(db|txt|sha1|crc32)$`);

let cassandra: TestCassandra;
let client: Client;
let targets: NodetoolTarget[];

/** The table directories (`<table>-<id>`) of the keyspace in `dataDir`. */
async function tableDirs(dataDir: string): Promise<string[]> {
  const entries = await readdir(path.join(dataDir, KEYSPACE)).catch(() => [] as string[]);
  return entries.map((entry) => path.join(dataDir, KEYSPACE, entry));
}

/** The files of snapshot `tag` of the keyspace in `dataDir`. */
async function snapshotFiles(dataDir: string, tag: string): Promise<string[]> {
  const dirs = await tableDirs(dataDir);
  const files = await Promise.all(dirs.map(async (dir) => {
    const entries = await readdir(path.join(dir, 'snapshots', tag)).catch(() => [] as string[]);
    return entries.map((f) => path.join(dir, 'snapshots', tag, f));
  }));
  return files.flat();
}

beforeAll(async () => {
  cassandra = await startTestCassandra('server', { count: 3, dataDirsPerNode: 2 });
  targets = cassandra.nodes.map((node) => cassandra.nodetoolTarget(node));
  client = await cassandra.connect();
}, 600_000);

afterAll(async () => {
  await stopAllCassandra();
}, 120_000);

describe('a 3-node Cassandra 2.1 cluster on loopback', () => {
  it('shows every node Up and Normal in nodetool status, owning the token it was given', async () => {
    // Act
    const views = await Promise.all(targets.map((target) => nodeStatus(target)));
    const ownership = await tokenOwnership(targets[1]);

    // Assess
    for (const view of views) {
      expect(view.map((n) => [n.address, n.status, n.state, n.tokenCount])).toEqual(ADDRESSES.map((a) => [a, 'up', 'normal', 1]));
      expect(view.map((n) => n.hostId)).toEqual(cassandra.nodes.map((node) => node.local.hostId));
    }
    expect(Object.fromEntries(ownership)).toEqual(Object.fromEntries(ADDRESSES.map((a, i) => [a, [evenTokens(3)[i]]])));
    expect(cassandra.nodes.map((node) => node.local.tokens)).toEqual(evenTokens(3).map((token) => [token]));
    expect(cassandra.nodes.map((node) => node.local.releaseVersion)).toEqual(['2.1.0', '2.1.0', '2.1.0']);
  });

  it('writes and reads rows at QUORUM in an RF 2 keyspace; describering lists two replicas per range', async () => {
    // Act
    await seedKeyspace(client, { keyspace: KEYSPACE, replicationFactor: 2, rows: ROWS });
    const quorum = { consistency: types.consistencies.quorum, prepare: true };
    const items = await client.execute(`SELECT count(*) FROM ${KEYSPACE}.items`, [], quorum);
    const item = await client.execute(`SELECT name, tags FROM ${KEYSPACE}.items WHERE id = ?`, [42], quorum);
    const events = await client.execute(`SELECT seq FROM ${KEYSPACE}.events WHERE device = ?`, ['device-3'], quorum);
    const views = await client.execute(`SELECT views FROM ${KEYSPACE}.page_views`, [], quorum);
    const ranges = await describeRing(targets[0], KEYSPACE);

    // Assess
    expect(Number(items.first().count)).toBe(ROWS);
    expect(item.first().name).toBe('item 42');
    expect([...item.first().tags].sort()).toEqual(['t0', 't2']);
    const seqs = events.rows.map((row) => row.seq as number);
    expect(seqs).toEqual(Array.from({ length: ROWS }, (_, i) => i).filter((i) => i % 17 === 3).reverse()); // clustering order: newest first
    const total = views.rows.reduce((sum, row) => sum + Number(row.views), 0);
    expect(total).toBe(Array.from({ length: ROWS }, (_, i) => i % 9 + 1).reduce((a, b) => a + b, 0));
    expect(ranges.map((r) => r.end).sort()).toEqual([...evenTokens(3)].sort());
    for (const range of ranges) expect(new Set(range.endpoints).size).toBe(2);
  });

  it('flush + snapshot -t <tag> hard-links 2.1 SSTables in every data dir of every node; clearsnapshot removes them', async () => {
    // Prepare: SSTables of the keyspace in every data dir of every node
    const dataDirs = cassandra.nodes.flatMap((node) => node.dataDirs);
    expect(dataDirs).toHaveLength(6);
    await spreadOverDataDirs(cassandra, client, { keyspace: KEYSPACE, replicationFactor: 2, rows: ROWS });

    // Act
    await Promise.all(targets.map((target) => snapshot(target, TAG, [KEYSPACE])));
    const listed = await Promise.all(targets.map((target) => listSnapshots(target)));
    const files = await Promise.all(dataDirs.map((dir) => snapshotFiles(dir, TAG)));

    // Assess
    for (const entries of listed) {
      expect(entries.filter((e) => e.tag === TAG).map((e) => `${e.keyspace}.${e.table}`).sort()).toEqual(TABLES.map((t) => `${KEYSPACE}.${t}`).sort());
    }
    for (const [i, dirFiles] of files.entries()) {
      const sstables = dirFiles.filter((f) => path.basename(f) !== 'manifest.json');
      expect({ dir: dataDirs[i], data: sstables.some((f) => f.endsWith('-Data.db')) }).toEqual({ dir: dataDirs[i], data: true });
      for (const file of sstables) {
        expect(path.basename(file)).toMatch(SSTABLE_21);
        // A hard link of the live component: the same inode in the table directory.
        const live = path.join(path.dirname(file), '..', '..', path.basename(file));
        expect((await stat(file)).ino).toBe((await stat(live)).ino);
      }
    }

    // Act: clear the snapshot on every node
    await Promise.all(targets.map((target) => clearSnapshot(target, TAG, [KEYSPACE])));

    // Assess
    expect((await Promise.all(dataDirs.map((dir) => snapshotFiles(dir, TAG)))).flat()).toEqual([]);
    for (const target of targets) expect((await listSnapshots(target)).filter((e) => e.tag === TAG)).toEqual([]);
    for (const dir of dataDirs) expect((await liveDataFiles(dir, KEYSPACE)).length).toBeGreaterThan(0);
  });

  it("types nodetool's failures: a taken tag, an unknown table, an unreachable JMX port", async () => {
    // Prepare
    await snapshot(targets[0], 'taken', [KEYSPACE]);

    // Act
    const taken = await snapshot(targets[0], 'taken', [KEYSPACE]).catch((e: unknown) => e);
    const unknown = await refresh(targets[0], KEYSPACE, 'no_such_table').catch((e: unknown) => e);
    const down = await nodeStatus({ ...targets[0], jmxPort: await freePort() }).catch((e: unknown) => e);
    const badTag = await snapshot(targets[0], '../escape', [KEYSPACE]).catch((e: unknown) => e);
    await clearSnapshot(targets[0], 'taken', [KEYSPACE]);
    await refresh(targets[0], KEYSPACE, 'items');

    // Assess
    expect(taken).toBeInstanceOf(PermanentError);
    expect(taken).toMatchObject({ code: 'CASSANDRA_SNAPSHOT_EXISTS', engine: 'cassandra' });
    expect(unknown).toMatchObject({ name: 'PermanentError', code: 'CASSANDRA_NO_SUCH_TABLE' });
    expect(down).toBeInstanceOf(TransientError);
    expect(down).toMatchObject({ code: 'CASSANDRA_JMX_UNAVAILABLE' });
    expect(badTag).toMatchObject({ name: 'PermanentError', code: 'CASSANDRA_INVALID_SNAPSHOT_TAG' });
  });

  it('stops every node by its recorded pid', async () => {
    // Prepare
    const pids = cassandra.nodes.map((node) => node.pid);

    // Act
    await cassandra.stop();

    // Assess
    expect(pids.map((pid) => isAlive(pid))).toEqual([false, false, false]);
    expect(await Promise.all(cassandra.nodes.map((node) => cassandraNodePid(node.dir)))).toEqual([undefined, undefined, undefined]);
  });
});
