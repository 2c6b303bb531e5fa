/**
 * ZooKeeper's own files read in pure TypeScript (drivers/zookeeper/files/), against a real
 * ZooKeeper 3.8 with a small snapCount (several snapshots and logs): the tree replayed from the
 * newest whole snapshot and its logs, read while the server runs, has the digest of the live tree
 * walked through the client at the same zxid; ZooKeeper's SnapshotFormatter lists the same nodes;
 * copies of the files (the prefix a copier takes) validate; a flipped byte, a torn log and a
 * missing log are each refused naming the file.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PermanentError } from '../../../core/errors';
import { readSnapshot } from '../../../drivers/zookeeper/files/snapshot-file';
import { replayDirectories } from '../../../drivers/zookeeper/files/replay';
import { listZooKeeperFiles, logsFrom, selectFiles, type SelectedFiles } from '../../../drivers/zookeeper/files/select-files';
import { readTxnLog } from '../../../drivers/zookeeper/files/txn-log';
import { validateBackupFiles } from '../../../drivers/zookeeper/files/validate-files';
import { serverStatus } from '../../../drivers/zookeeper/four-letter';
import { startLocalZooKeeper, ZOOKEEPER_JAR, type LocalZooKeeper } from '../../../drivers/zookeeper/member';
import { isSystemPath, kindOfOwner, TreeDigest, type TreeSummary } from '../../../drivers/zookeeper/tree-digest';
import { onFreePorts } from '../../harness/ports';
import { tempDir } from '../../harness/test-run';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ZooKeeperModule = require('zookeeper');
const { Promise: ZkPromise, constants: ZK } = ZooKeeperModule;

/** The few client calls the test uses (the package's types describe the callback API only). */
interface ZkClient {
  create(path: string, data: string | Buffer, flags: number, ttl?: number): Promise<string>;
  get(path: string, watch: boolean): Promise<[{ ephemeralOwner: string }, Buffer | null]>;
  get_children(path: string, watch: boolean): Promise<string[]>;
  get_acl(path: string): Promise<[Array<{ perms: number; scheme: string; auth: string }>, unknown]>;
  set(path: string, data: Buffer, version: number): Promise<unknown>;
  set_acl(path: string, version: number, acl: Array<{ perm: number; scheme: string; auth: string }>): Promise<unknown>;
  delete_(path: string, version: number): Promise<unknown>;
  add_auth(scheme: string, auth: string, cb: (rc: number, error: string) => void): void;
  connect(options: object, cb: (error: Error | null) => void): void;
  close(): void;
}

async function connect(connectString: string, credentials?: string): Promise<ZkClient> {
  // response_counter_limit: the native client closes its session after that many reads without a
  // whole reply (its default, 10, is reached reading a 900 KB node) and may then crash the process.
  const client: ZkClient = new ZkPromise({
    connect: connectString, timeout: 10_000, debug_level: ZK.ZOO_LOG_LEVEL_ERROR, host_order_deterministic: false, data_as_buffer: true, response_counter_limit: 1_000_000,
  });
  await new Promise<void>((resolve, reject) => client.connect({}, (error) => (error ? reject(error) : resolve())));
  if (credentials) {
    await new Promise<void>((resolve, reject) => client.add_auth('digest', credentials, (rc, error) => (rc === 0 ? resolve() : reject(new Error(`add_auth: ${rc} ${error}`)))));
  }
  return client;
}

/** The digest of the live tree, walked through the client (an independent reader of the same tree). */
async function walkTree(client: ZkClient): Promise<TreeSummary> {
  const digest = new TreeDigest();
  const visit = async (nodePath: string): Promise<string[]> => {
    const [stat, data] = await client.get(nodePath, false);
    const [acl] = await client.get_acl(nodePath);
    const children = await client.get_children(nodePath, false);
    if (kindOfOwner(BigInt(`0x${stat.ephemeralOwner}`)) !== 'ephemeral') {
      digest.add({ path: nodePath, data: data ?? Buffer.alloc(0), acl: acl.map((a) => ({ perms: a.perms, scheme: a.scheme, id: a.auth })) });
    }
    return children.map((child) => (nodePath === '/' ? `/${child}` : `${nodePath}/${child}`)).filter((child) => !isSystemPath(child));
  };
  // Level by level, 32 nodes at a time: the native client fails under thousands of requests at once.
  for (let level = ['/']; level.length > 0;) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 32) next.push(...(await Promise.all(level.slice(i, i + 32).map(visit))).flat());
    level = next;
  }
  return digest.summary();
}

/** Copies the first `length` bytes of a file: what a copier takes of a live log. */
async function copyPrefix(source: string, target: string, length: number): Promise<void> {
  const handle = await open(source, 'r');
  try {
    const bytes = Buffer.alloc(length);
    await handle.read(bytes, 0, length, 0);
    await writeFile(target, bytes);
  } finally {
    await handle.close();
  }
}

/** A deterministic byte pattern with every byte value in it. */
function binary(seed: number, length: number): Buffer {
  return createHash('sha256').update(String(seed)).digest().subarray(0, length);
}

const BIG_BYTE = 0xab;
const TTL_MS = 3_600_000;
const USER = 'backup:s3cret';
const digestId = (credentials: string) => `${credentials.split(':')[0]}:${createHash('sha1').update(credentials).digest('base64')}`;

async function fill(client: ZkClient, other: ZkClient): Promise<void> {
  await client.create('/app', '', ZK.ZOO_PERSISTENT);
  for (let g = 0; g < 10; g += 1) await client.create(`/app/g${g}`, binary(g, 7), ZK.ZOO_PERSISTENT);
  // 3000 nodes, 150 requests in flight at a time.
  for (let batch = 0; batch < 20; batch += 1) {
    await Promise.all(Array.from({ length: 150 }, (_, i) => {
      const n = batch * 150 + i;
      return client.create(`/app/g${n % 10}/n${n}`, binary(n, n % 33), ZK.ZOO_PERSISTENT);
    }));
  }
  await Promise.all(Array.from({ length: 300 }, (_, i) => client.set(`/app/g${(i * 7) % 10}/n${i * 7}`, binary(-i, 20), -1)));
  await Promise.all(Array.from({ length: 300 }, (_, i) => client.delete_(`/app/g${(i * 3 + 1) % 10}/n${i * 3 + 1}`, -1)));
  await client.create('/big', Buffer.alloc(900 * 1024, BIG_BYTE), ZK.ZOO_PERSISTENT);
  await client.create('/secure', 'secret', ZK.ZOO_PERSISTENT);
  await client.set_acl('/secure', -1, [{ perm: ZK.ZOO_PERM_ALL, scheme: 'digest', auth: digestId(USER) }]);
  await client.create('/readonly', 'r', ZK.ZOO_PERSISTENT);
  await client.set_acl('/readonly', -1, [{ perm: ZK.ZOO_PERM_READ, scheme: 'world', auth: 'anyone' }]);
  await client.create('/seq', '', ZK.ZOO_PERSISTENT);
  for (let i = 0; i < 5; i += 1) await client.create('/seq/item-', `s${i}`, ZK.ZOO_PERSISTENT_SEQUENTIAL);
  await client.create('/box', 'container', ZK.ZOO_CONTAINER);
  await client.create('/box/kept', 'k', ZK.ZOO_PERSISTENT);
  await client.create('/ttl', 'ttl', ZK.ZOO_PERSISTENT_WITH_TTL, TTL_MS);
  await client.create('/ttl/child', 'c', ZK.ZOO_PERSISTENT);
  await client.create('/eph-kept', 'e', ZK.ZOO_EPHEMERAL);
  // An ephemeral of a session that closes: its closeSession txn deletes it.
  await other.create('/eph-gone', 'e', ZK.ZOO_EPHEMERAL);
}

describe('ZooKeeper files read in TypeScript, against a running ZooKeeper 3.8', () => {
  let zk: LocalZooKeeper;
  let client: ZkClient;
  const clients: ZkClient[] = [];
  let snapDir: string;
  let logDir: string;
  let work: string;
  let selected: SelectedFiles;

  beforeAll(async () => {
    const dir = await tempDir('zk-files');
    work = await tempDir('zk-files-copies');
    zk = await onFreePorts(3, (ports, attempt) => startLocalZooKeeper({ dir: path.join(dir, `a${attempt}`), ports, snapCount: 600, separateLogDir: true }));
    snapDir = path.join(zk.members[0].dataDir, 'version-2');
    logDir = path.join(zk.members[0].dataLogDir, 'version-2');
    client = await connect(zk.connectString, USER);
    clients.push(client);
    const other = await connect(zk.connectString);
    clients.push(other);
    await fill(client, other);
    other.close();
    clients.pop();
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await zk?.stop();
  });

  it('replays the newest whole snapshot and its logs, read while the server runs, to the live tree at the same zxid', async () => {
    // Act
    const before = await serverStatus(zk.members[0].address);
    const replayed = await replayDirectories({ snapDir, logDir });
    const live = await walkTree(client);
    const after = await serverStatus(zk.members[0].address);
    selected = await selectFiles({ snapDir, logDir });

    // Assess
    expect(after.zxid).toBe(before.zxid); // nothing written meanwhile: replay and walk see one state
    expect(replayed.lastZxid).toBe(before.zxid);
    expect(replayed.summary).toEqual(live);
    expect(live.nodeCount).toBeGreaterThan(2700);
    expect(replayed.snapshotZxid).toBeLessThan(replayed.lastZxid);
    expect(replayed.txnsApplied).toBeGreaterThan(0);
    expect(replayed.epochs).toEqual([0]);
    expect(replayed.dbid).toEqual({ snapshot: -1n, logs: 0n });
    expect(replayed.nodeCount + 1).toBe(before.nodeCount); // srvr counts the root twice
    expect(selected.logs.length).toBeGreaterThanOrEqual(1);
  });

  it("lists the same nodes as ZooKeeper's SnapshotFormatter", async () => {
    // Prepare
    const paths: string[] = [];
    const scan = await readSnapshot(selected.snapshot.file, { onNode: (node) => { paths.push(node.path); } });

    // Act
    const { stdout } = await promisify(execFile)('java', ['-cp', `${ZOOKEEPER_JAR}:/usr/share/java/slf4j-nop.jar`, 'org.apache.zookeeper.server.SnapshotFormatter', selected.snapshot.file], { maxBuffer: 64 * 1024 * 1024 });

    // Assess
    const lines = stdout.split('\n');
    const theirs = lines.filter((line, i) => i > 0 && lines[i - 1] === '----' && line.startsWith('/'));
    expect(Number(/ZNode Details \(count=(\d+)\)/.exec(stdout)?.[1])).toBe(scan.nodeCount + 1); // it counts the root twice
    expect([...theirs].sort()).toEqual([...paths].sort());
    expect(paths.length).toBe(scan.nodeCount);
  });

  it('says a directory that is not there may not be the member\'s, rather than fail on a bare ENOENT', async () => {
    // Act
    const listing = listZooKeeperFiles(path.join(await tempDir('zk-nowhere'), 'nonexistent', 'version-2'));

    // Assess
    await expect(listing).rejects.toMatchObject({ name: 'PermanentError', code: 'ZK_NO_SNAPSHOT', message: expect.stringMatching(/^there is no directory .*nonexistent\/version-2: is the member's dataDir \(or dataLogDir\) the one its zoo.cfg names\?/) });
  });

  it('validates the copied files (each log cut where the live read stopped) and refuses a flipped byte, a torn log and a missing log', async () => {
    // Prepare: the backup's files as a copier takes them, from an older snapshot so that several logs follow it
    const older = (await listZooKeeperFiles(snapDir)).snapshots.find((s) => s.zxid > 0n)!;
    const chosen = logsFrom((await listZooKeeperFiles(logDir)).logs, older.zxid);
    const copies = path.join(work, 'backup');
    await mkdir(copies, { recursive: true });
    const snapshotCopy = path.join(copies, path.basename(older.file));
    await copyFile(older.file, snapshotCopy);
    const logCopies: string[] = [];
    for (const log of chosen) {
      const scan = await readTxnLog(log.file, { mode: 'live' });
      const target = path.join(copies, path.basename(log.file));
      await copyPrefix(log.file, target, scan.validLength);
      logCopies.push(target);
    }
    expect(logCopies.length).toBeGreaterThanOrEqual(3);
    const expected = { lastZxid: (await serverStatus(zk.members[0].address)).zxid, summary: await walkTree(client) };

    // Act
    const good = await validateBackupFiles({ snapshot: snapshotCopy, logs: logCopies, expected });

    // Assess
    expect(good.checks.filter((c) => !c.ok)).toEqual([]);
    expect(good.ok).toBe(true);
    expect(good.facts?.lastZxid).toBe(expected.lastZxid);
    expect(good.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['snapshot', 'continuity', 'logs-dbid', 'log-names', 'last-zxid', 'tree-digest']));

    // Act + Assess: a flipped byte in a node's data (/app/g2/n2: 2 bytes, never changed)
    const bytes = await readFile(snapshotCopy);
    const nodePath = Buffer.from('/app/g2/n2');
    const framed = Buffer.concat([Buffer.from([0, 0, 0, nodePath.length]), nodePath]);
    const at = bytes.indexOf(framed);
    expect(at).toBeGreaterThan(0);
    bytes[at + framed.length + 4] ^= 0x01;
    const flipped = path.join(work, 'flipped', path.basename(older.file));
    await mkdir(path.dirname(flipped), { recursive: true });
    await writeFile(flipped, bytes);
    const flippedError = await readSnapshot(flipped).catch((error: unknown) => error);
    expect(flippedError).toBeInstanceOf(PermanentError);
    expect(flippedError).toMatchObject({ code: 'ZK_CORRUPT_SNAPSHOT', message: expect.stringMatching(/checksum/) });
    expect((flippedError as Error).message).toContain(flipped);
    const flippedResult = await validateBackupFiles({ snapshot: flipped, logs: logCopies });
    expect(flippedResult.checks.find((c) => c.name === 'snapshot')).toMatchObject({ ok: false, detail: expect.stringContaining(flipped) });

    // Act + Assess: a torn log (its last txn cut short)
    const torn = path.join(work, 'torn', path.basename(logCopies[1]));
    await mkdir(path.dirname(torn), { recursive: true });
    const whole = await readTxnLog(logCopies[1], { mode: 'artifact' });
    await copyPrefix(logCopies[1], torn, whole.validLength - 7);
    await expect(readTxnLog(torn, { mode: 'artifact' })).rejects.toMatchObject({ code: 'ZK_CORRUPT_LOG', message: expect.stringContaining(torn) });
    const tornLive = await readTxnLog(torn, { mode: 'live' });
    expect(tornLive.end).toBe('partial-txn');
    expect(tornLive.lastZxid).toBe(whole.lastZxid! - 1n);
    const tornResult = await validateBackupFiles({ snapshot: snapshotCopy, logs: [logCopies[0], torn, ...logCopies.slice(2)] });
    expect(tornResult.ok).toBe(false);
    expect(tornResult.checks.find((c) => c.name === `log:${path.basename(torn)}`)).toMatchObject({ ok: false, detail: expect.stringContaining(torn) });

    // Act + Assess: a missing log
    const withoutSecond = [logCopies[0], ...logCopies.slice(2)];
    const gapped = await validateBackupFiles({ snapshot: snapshotCopy, logs: withoutSecond });
    expect(gapped.ok).toBe(false);
    expect(gapped.checks.find((c) => c.name === 'continuity')).toMatchObject({ ok: false, detail: expect.stringMatching(/missing between 0x[0-9a-f]+ .* and 0x[0-9a-f]+ \(the first txn of .*log\.|in .*log\./) });
    const gapDir = path.join(work, 'gap');
    await mkdir(gapDir, { recursive: true });
    for (const file of [snapshotCopy, ...withoutSecond]) await copyFile(file, path.join(gapDir, path.basename(file)));
    await expect(selectFiles({ snapDir: gapDir, mode: 'artifact' })).rejects.toMatchObject({ code: 'ZK_LOG_GAP', message: expect.stringContaining(gapDir) });
  });
});
