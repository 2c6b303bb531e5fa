/**
 * ZooKeeper host-local backups through the synthesized state machines, on real ZooKeeper 3.8:
 * taken from a 3-member ensemble while a client keeps writing, restored onto a fresh 3-member
 * ensemble (every member serving the backup's tree, one leader), and from a standalone server with
 * a separate dataLogDir onto a standalone target; and a logical backup of 3 000 nodes restored into a
 * fresh 3-member ensemble, all through the state machines. The restored trees are read back through the raw
 * client, independently of the driver's walk and digest, and compared with ZooKeeper's own: the
 * source's tree at exactly the recorded zxid, as a ZooKeeper server rebuilds it from a source
 * member's files cut there by ZooKeeper's TxnLogToolkit, and its SnapshotFormatter.
 */
import { execFile } from 'node:child_process';
import { cp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { serverStatus } from '../../../drivers/zookeeper/four-letter';
import { startZooKeeperMember, ZOOKEEPER_JAR, type RunningZooKeeper } from '../../../drivers/zookeeper/member';
import { freePort } from '../../harness/ports';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import {
  connectRaw, formatSnapshot, readTree, SEED_AUTH_ENV, SEED_AUTH_REF, seedTree, startTestZooKeeper, stopAllZooKeeper, trackZooKeeper, zkTempDir, type RawClient, type ReadNode,
} from '../../harness/zookeeper';

let rt: TestRuntime;
const holders: RawClient[] = [];

beforeAll(async () => {
  rt = await createTestRuntime({ env: SEED_AUTH_ENV });
});
afterAll(async () => {
  for (const holder of holders) holder.close();
  await stopAllZooKeeper();
  await rt.dispose();
});

/** A target of `count` members on fresh loopback ports, tracked for the harness to stop. */
async function targetMembers(label: string, count: number, separateLogDir = false) {
  const dir = await zkTempDir(label);
  const members = [];
  for (let id = 1; id <= count; id += 1) {
    const dataDir = path.join(dir, `zk${id}`, 'data');
    trackZooKeeper(dataDir);
    members.push({
      id, dataDir, clientPort: await freePort(),
      ...(separateLogDir ? { dataLogDir: path.join(dir, `zk${id}`, 'txlog') } : {}),
      ...(count > 1 ? { quorumPort: await freePort(), electionPort: await freePort() } : {}),
    });
  }
  return members;
}

const LOAD = /^\/load\/w-(\d+)$/;

/**
 * Creates `path` as a writing client would: an operation that timed out or lost its connection
 * (a loaded machine can starve the ensemble longer than the client waits) is sent again, and
 * "node exists" then means the first attempt was applied — so the writes stay one after another.
 */
async function createSurely(client: RawClient, path: string, data: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.create(path, data, 0);
      return;
    } catch (error) {
      const message = String((error as Error).message);
      if (attempt > 1 && /^-110 /.test(message)) return; // ZNODEEXISTS: the attempt that timed out was applied
      if (attempt >= 5 || !/^-(7|4) /.test(message)) throw error; // ZOPERATIONTIMEOUT, ZCONNECTIONLOSS
    }
  }
}

const zxidOf = (name: string) => BigInt(`0x${name.slice(name.indexOf('.') + 1)}`);

/**
 * The source's tree at exactly `zxid`, as ZooKeeper itself rebuilds it: a copy of `member`'s data
 * dir (once the member has reached `zxid`) with only its first snapshot, without the logs that
 * start after `zxid`, the log holding it cut there by ZooKeeper's TxnLogToolkit (`--chop`), loaded by a
 * standalone ZooKeeper server that must then serve exactly `zxid`, and read by the raw client.
 */
async function sourceTreeAt(member: RunningZooKeeper, zxid: bigint): Promise<ReadNode[]> {
  for (let tries = 0; (await serverStatus(member.address)).zxid < zxid; tries += 1) {
    if (tries > 100) throw new Error(`${member.address.port} never reached ${zxid.toString(16)}`);
    await delay(100);
  }
  const dataDir = path.join(await zkTempDir('at-zxid'), 'data');
  await cp(member.dataDir, dataDir, { recursive: true });
  const version2 = path.join(dataDir, 'version-2');
  const files = await readdir(version2);
  // Only the member's first snapshot stays, taken as it started (before any write): ZooKeeper's
  // snapshots are fuzzy, so a later one at or below `zxid` may hold writes made after `zxid`
  // while it was being written, which no replay of the logs removes.
  const snapshots = files.filter((f) => f.startsWith('snapshot.')).sort((a, b) => (zxidOf(a) < zxidOf(b) ? -1 : 1));
  for (const name of snapshots.slice(1)) await rm(path.join(version2, name));
  const logs = files.filter((f) => /^log\.[0-9a-f]+$/.test(f)).sort((a, b) => (zxidOf(a) < zxidOf(b) ? -1 : 1));
  for (const name of logs.filter((f) => zxidOf(f) > zxid)) await rm(path.join(version2, name));
  const holding = logs.filter((f) => zxidOf(f) <= zxid).pop()!;
  const classpath = [ZOOKEEPER_JAR, '/usr/share/java/zookeeper-jute.jar', '/usr/share/java/commons-cli.jar', '/usr/share/java/slf4j-api.jar', '/usr/share/java/slf4j-nop.jar'].join(':');
  await promisify(execFile)('java', ['-cp', classpath, 'org.apache.zookeeper.server.persistence.TxnLogToolkit', '--chop', '--zxid', `0x${zxid.toString(16)}`, path.join(version2, holding)]);
  await rename(path.join(version2, `${holding}.chopped${zxid}`), path.join(version2, holding));
  trackZooKeeper(dataDir);
  const server = await startZooKeeperMember({ id: 1, dataDir, host: '127.0.0.1', clientPort: await freePort() });
  try {
    expect((await serverStatus(server.address)).zxid).toBe(zxid);
    return await readTree(`127.0.0.1:${server.address.port}`);
  } finally {
    await server.stop();
  }
}

it('backs up an ensemble under writes and restores the same files onto a whole 3-member ensemble: every member serves the tree at the recorded zxid, one leader', async () => {
  // Prepare: a seeded ensemble, and a client creating /load/w-N one after another during the backup.
  const source = await startTestZooKeeper('ensemble-src', { count: 3, snapCount: 200 });
  holders.push(await seedTree(source.connectString, 500));
  const writer = await connectRaw(source.connectString);
  holders.push(writer);
  await writer.create('/load', '', 0);
  let writing = true;
  let written = 0;
  const writes = (async () => {
    while (writing) {
      await createSurely(writer, `/load/w-${String(written).padStart(6, '0')}`, `write ${written}`);
      written += 1;
    }
  })();

  // Act
  const backup = await rt.backup({ engine: 'zookeeper', instance: 'ensemble', config: { members: source.members.map((m) => ({ address: `${m.address.host}:${m.address.port}` })) } });
  writing = false;
  await writes;
  // One write more, surely after the backup's point (on a busy machine the writer may have
  // completed none between the point and the backup's end): the restore must not hold it.
  await createSurely(writer, `/load/w-${String(written).padStart(6, '0')}`, `write ${written}`);
  written += 1;
  const members = await targetMembers('ensemble-target', 3);
  const report = await rt.restore({ backupId: backup.backupId, target: { members, auth: [SEED_AUTH_REF] } });

  // Assert: validation on every member, and one leader.
  expect(report.validation.ok).toBe(true);
  const checks = report.validation.checks.map((c: { name: string }) => c.name);
  for (const m of members) expect(checks).toContain(`tree@127.0.0.1:${m.clientPort}`);
  expect(checks).toContain('one-leader');
  // The restored tree is the source's at one point of the writes: a prefix w-0..w-k with no hole,
  // everything else as the source holds it now.
  const sourceNow = await readTree(source.connectString);
  const restored = await Promise.all(members.map((m) => readTree(`127.0.0.1:${m.clientPort}`)));
  const loads = restored[0].map((n) => LOAD.exec(n.path)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
  const k = loads.length - 1;
  expect(loads).toEqual(Array.from({ length: loads.length }, (_, i) => i));
  expect(k).toBeGreaterThanOrEqual(0); // writes began before the backup's point...
  expect(written).toBeGreaterThan(k + 1); // ...and went on after it (the last one at least)
  const atBackup = (nodes: ReadNode[]) => nodes.filter((n) => !(LOAD.test(n.path) && Number(LOAD.exec(n.path)![1]) > k));
  for (const tree of restored) expect(tree).toEqual(atBackup(sourceNow));
  // ZooKeeper's own answer: the source's tree at exactly the recorded zxid, rebuilt by a ZooKeeper
  // server from a source member's files cut there.
  const recorded = BigInt(String(backup.consistency.zxid));
  expect(await sourceTreeAt(source.members[0], recorded)).toEqual(restored[0]);
  // The source's ephemeral node came back with its session in the files; the restore closed the session.
  const probe = await connectRaw(`127.0.0.1:${members[0].clientPort}`);
  try {
    await expect(probe.get('/session', false)).rejects.toThrow(/no node/i);
  } finally {
    probe.close();
  }
}, 300_000);

it('restores a standalone server with a separate dataLogDir onto a standalone target, the tree equal to the source', async () => {
  // Prepare
  const source = await startTestZooKeeper('standalone-src', { snapCount: 100, separateLogDir: true });
  holders.push(await seedTree(source.connectString, 400));
  const before = await readTree(source.connectString);

  // Act
  const backup = await rt.backup({ engine: 'zookeeper', instance: 'standalone', config: { members: [{ address: source.connectString }] } });
  const members = await targetMembers('standalone-target', 1, true);
  const report = await rt.restore({ backupId: backup.backupId, target: { members, auth: [SEED_AUTH_REF] } });

  // Assert
  expect(report.validation.ok).toBe(true);
  expect(await readTree(`127.0.0.1:${members[0].clientPort}`)).toEqual(before);
  // ZooKeeper's own SnapshotFormatter, on the snapshot the restored server wrote after loading the
  // files: the same nodes and data, and the kinds a client cannot see kept (container, TTL).
  const snapshotDir = path.join(members[0].dataDir, 'version-2');
  const snapshots = (await readdir(snapshotDir)).filter((f) => f.startsWith('snapshot.')).sort((a, b) => (BigInt(`0x${a.slice(9)}`) < BigInt(`0x${b.slice(9)}`) ? -1 : 1));
  expect(BigInt(`0x${snapshots[snapshots.length - 1].slice(9)}`)).toBe(BigInt(String(backup.consistency.zxid)));
  const formatted = (await formatSnapshot(path.join(snapshotDir, snapshots[snapshots.length - 1])))
    .filter((n) => n.path !== '/zookeeper' && !n.path.startsWith('/zookeeper/'));
  const persistent = formatted.filter((n) => n.owner === 0n || n.owner === 0x8000000000000000n || n.owner >> 56n === 0xffn);
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  expect(persistent.map((n) => ({ path: n.path, dataSha256: n.dataSha256 })).sort(byPath)).toEqual(before.map((n) => ({ path: n.path, dataSha256: n.dataSha256 })));
  expect(formatted.find((n) => n.path === '/locks')?.owner).toBe(0x8000000000000000n);
  expect(formatted.find((n) => n.path === '/expiring')?.owner).toBe(0xff00000000000000n | 3_600_000n);

  // Act: the same backup restored with no auth, which may not see /secret's ACL nor read /secret/inner
  const unproven = await targetMembers('standalone-noauth', 1, true);
  const outcome = rt.restore({ backupId: backup.backupId, target: { members: unproven } });

  // Assess: restored, but not proven, the validation saying why (not a refused login)
  await expect(outcome).rejects.toMatchObject({
    code: 'RESTORE_UNPROVEN',
    message: expect.stringMatching(/not proven: its validation could not look: tree@127\.0\.0\.1:\d+ \(not proven: the target's auth cannot read the whole tree \(reading \/secret\/inner: authentication failed \(ZK_AUTH\): .*; this says nothing of the backup .*— target restored: /),
  });

  // Act: drills of it into scratch members, without the auth (its check cannot look: no verdict on the backup), then with it
  const inconclusive = await rt.drill({ backupId: backup.backupId, engine: 'zookeeper', instance: 'standalone' }).catch((error: unknown) => error);
  const unjudged = await rt.catalog.find(backup.backupId);
  const drilled = await rt.drill({ backupId: backup.backupId, engine: 'zookeeper', instance: 'standalone', targetSettings: { auth: [SEED_AUTH_REF] } });

  // Assess: the first records nothing and says what is missing; the second restore-verifies it
  expect(inconclusive).toMatchObject({ code: 'RESTORE_UNPROVEN', message: expect.stringMatching(/^restore of \S+ not proven: its validation could not look: tree@127\.0\.0\.1:\d+ \(not proven: the target's auth cannot read the whole tree /) });
  expect(unjudged.drill).toBeUndefined();
  expect(drilled).toMatchObject({ backupId: backup.backupId, ok: true });
}, 300_000);

it('backs up logically through the state machine and restores into a fresh 3-member ensemble: thousands of nodes, every member serving them', async () => {
  // Prepare: a standalone source with 3 000 nodes (binary data, a 900 KB node, ACLs, sequential, container, TTL, an ephemeral)
  const source = await startTestZooKeeper('logical-src');
  holders.push(await seedTree(source.connectString, 3000));
  const target = await startTestZooKeeper('logical-ensemble', { count: 3 });
  const config = { mode: 'logical', members: [{ address: source.connectString }], auth: [SEED_AUTH_REF] };

  // Act
  const backup = await rt.backup({ engine: 'zookeeper', instance: 'logical-ensemble', config });
  const report = await rt.restore({ backupId: backup.backupId, target: { mode: 'logical', servers: target.members.map((m) => `${m.address.host}:${m.address.port}`), auth: [SEED_AUTH_REF] } });

  // Assert: validated; every member serves the source's nodes, data and ACLs (a logical copy makes
  // containers and TTL nodes persistent: their kind is not readable over the client protocol).
  expect(report.validation.ok).toBe(true);
  const content = (nodes: ReadNode[]) => nodes.map((n) => ({ path: n.path, dataSha256: n.dataSha256, acl: n.acl }));
  const expected = content(await readTree(source.connectString));
  expect(expected.length).toBeGreaterThan(3000);
  for (const m of target.members) expect(content(await readTree(`${m.address.host}:${m.address.port}`))).toEqual(expected);
}, 300_000);
