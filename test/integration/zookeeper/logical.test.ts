/**
 * The ZooKeeper logical backup and restore against real ZooKeeper 3.8 servers: a source, a
 * standalone target and a 3-member ensemble target, started once for the file. Backup = tree walk
 * → artifact; restore = artifact → empty target, checked by its summary and by reading nodes back.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { onFreePorts } from '../../harness/ports';
import { closeZooKeeper, openZooKeeper, zooKeeperConstants, type ZooKeeperClient } from '../../../drivers/zookeeper/client';
import { startLocalZooKeeper, ZOOKEEPER_JAR, type LocalZooKeeper } from '../../../drivers/zookeeper/member';
import { clearTree, treeIsEmpty } from '../../../drivers/zookeeper/logical/restore-target';
import { RequestWindow } from '../../../drivers/zookeeper/logical/request-window';
import { writeTreeArtifact } from '../../../drivers/zookeeper/logical/tree-artifact';
import { planTreeRestore, restoreTree } from '../../../drivers/zookeeper/logical/tree-restore';
import { treeSummary, walkTree, type WalkedNode } from '../../../drivers/zookeeper/logical/tree-walk';
import { tempDir } from '../../harness/test-run';

const USER = 'backup:secret';
const USER_ID = `backup:${createHash('sha1').update(USER).digest('base64')}`;
const AUTH = [{ scheme: 'digest', credential: USER }];
const { ZOO_PERSISTENT_SEQUENTIAL, ZOO_CONTAINER, ZOO_PERSISTENT_WITH_TTL, ZOO_EPHEMERAL } = zooKeeperConstants();

async function startServers(label: string, count: number): Promise<LocalZooKeeper> {
  const dir = await tempDir(`zk-${label}`);
  return onFreePorts(3 * count, (ports, attempt) => startLocalZooKeeper({ dir: path.join(dir, `a${attempt}`), ports, count }));
}

async function aclOf(client: ZooKeeperClient, node: string): Promise<unknown> {
  const [acl] = await client.get_acl(node) as unknown as [unknown];
  return acl;
}

async function dataOf(client: ZooKeeperClient, node: string): Promise<Buffer> {
  const [, data] = await client.get(node, false) as [unknown, Buffer];
  return data;
}

/** The source tree: ~3 000 nodes of binary data, a 900 KB node, ACLs, sequential, container and TTL nodes. */
async function buildSource(client: ZooKeeperClient): Promise<Map<string, Buffer>> {
  const samples = new Map<string, Buffer>();
  const window = new RequestWindow(256);
  const put = (node: string, data: Buffer, flags = 0, ttl?: number) => window.submit(() => client.create(node, data, flags, ttl));
  await put('/app', Buffer.from('app root'));
  for (let d = 0; d < 30; d += 1) {
    await put(`/app/d${d}`, randomBytes(8));
    for (let i = 0; i < 100; i += 1) {
      const data = randomBytes(i % 7 === 0 ? 0 : 1 + (i * 13) % 200);
      if (i % 25 === 0) samples.set(`/app/d${d}/n${i}`, data);
      await put(`/app/d${d}/n${i}`, data);
    }
  }
  const big = randomBytes(900 * 1024);
  samples.set('/big', big);
  await put('/big', big);
  await put('/secure', Buffer.from('secure'));
  await put('/secure/locked', Buffer.from([0, 1, 2, 255]));
  await put('/secure/locked/a', Buffer.from('a'));
  await put('/secure/locked/b', Buffer.from('b'));
  await put('/readonly', Buffer.from('read me'));
  await put('/queue', Buffer.alloc(0));
  await put('/containers', Buffer.alloc(0));
  await put('/containers/c1', Buffer.from('container'), ZOO_CONTAINER);
  await put('/containers/c1/x', Buffer.from('x'));
  await put('/ttl', Buffer.from('ttl'), ZOO_PERSISTENT_WITH_TTL, 3_600_000);
  // Names ending in ten digits that ZooKeeper did not give: a Unix timestamp, int32's maximum.
  await put('/events', Buffer.alloc(0));
  await put('/events/evt-1733450000', Buffer.from('a timestamp'));
  await put('/events/job-2147483647', Buffer.from('int32 max'));
  await window.drain();
  for (let i = 0; i < 50; i += 1) await window.submit(() => client.create('/queue/job-', Buffer.from(`job ${i}`), ZOO_PERSISTENT_SEQUENTIAL));
  await window.drain();
  for (let i = 0; i < 30; i += 1) await window.submit(() => client.delete_(`/queue/job-${String(i).padStart(10, '0')}`, -1));
  await client.set_acl('/secure', -1, [{ perms: 31, scheme: 'digest', auth: USER_ID }]);
  // No CREATE for anyone, the restoring client included: its children must still come back.
  await client.set_acl('/secure/locked', -1, [{ perms: 1 | 16, scheme: 'digest', auth: USER_ID }, { perms: 1, scheme: 'world', auth: 'anyone' }]);
  await client.set_acl('/readonly', -1, [{ perms: 1, scheme: 'world', auth: 'anyone' }]);
  await window.drain();
  return samples;
}

describe('ZooKeeper logical backup and restore', () => {
  let source: LocalZooKeeper;
  let standalone: LocalZooKeeper;
  let ensemble: LocalZooKeeper;
  let sourceClient: ZooKeeperClient;
  let ephemeralOwner: ZooKeeperClient;
  let dir: string;
  let artifact: string;
  let samples: Map<string, Buffer>;
  const clients: ZooKeeperClient[] = [];
  const connect = async (servers: LocalZooKeeper) => {
    const client = await openZooKeeper({ connectString: servers.connectString, auth: AUTH });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    [source, standalone, ensemble] = await Promise.all([startServers('source', 1), startServers('target', 1), startServers('ensemble', 3)]);
    dir = await tempDir('zk-artifacts');
    sourceClient = await connect(source);
    ephemeralOwner = await connect(source);
    samples = await buildSource(sourceClient);
    await ephemeralOwner.create('/app/session-lock', Buffer.from('mine'), ZOO_EPHEMERAL);
  });

  afterAll(async () => {
    clients.forEach(closeZooKeeper);
    await Promise.all([source, standalone, ensemble].filter(Boolean).map((s) => s.stop()));
  });

  it('backs up the tree into an artifact whose trailer is the walk\'s summary', async () => {
    // Act
    artifact = path.join(dir, 'tree.ndjson');
    const walk = walkTree(sourceClient);
    const written = await writeTreeArtifact(artifact, walk);
    const summary = await treeSummary(sourceClient);

    // Assess: root + 3 031 /app nodes + /big + 4 secure + /readonly + /queue and 20 jobs + 3 container + /ttl + /events and 2
    expect(written.nodeCount).toBe(1 + 3031 + 1 + 4 + 1 + 21 + 3 + 1 + 3);
    expect({ nodeCount: written.nodeCount, digest: written.digest }).toEqual({ nodeCount: summary.nodeCount, digest: summary.digest });
    expect(walk.result()).toEqual({ nodeCount: summary.nodeCount, digest: summary.digest, maxMzxid: summary.maxMzxid });
    expect(written.maxMzxid).toBeGreaterThan(3000);
    expect((await readFile(artifact, 'utf8')).includes('session-lock')).toBe(false);
  });

  it.each([['a standalone server', () => standalone, 1], ['a 3-member ensemble, over 4 sessions', () => ensemble, 4]] as const)('restores it into %s exactly', async (_label, target, sessions) => {
    // Prepare
    const client = await connect(target());
    const more = await Promise.all(Array.from({ length: sessions - 1 }, () => connect(target())));
    const expected = await treeSummary(sourceClient);

    // Act: parents first, even when a node's parent was created on another session.
    const result = await restoreTree(client, artifact, { moreSessions: more });

    // Assess
    expect(result.restored).toEqual(expect.objectContaining({ nodeCount: expected.nodeCount, digest: expected.digest }));
    expect(await treeSummary(client)).toEqual(expect.objectContaining({ nodeCount: expected.nodeCount, digest: expected.digest }));
    for (const [node, data] of samples) expect((await dataOf(client, node)).equals(data)).toBe(true);
    expect(await aclOf(client, '/secure/locked')).toEqual(await aclOf(sourceClient, '/secure/locked'));
    expect(await aclOf(client, '/readonly')).toEqual([{ perms: 1, scheme: 'world', auth: 'anyone' }]);
    expect(await client.get_children('/secure/locked', false)).toEqual(expect.arrayContaining(['a', 'b']));
    expect(await client.pathExists('/app/session-lock', false)).toBe(false);
    expect((await client.get_children('/queue', false)).sort()).toEqual((await sourceClient.get_children('/queue', false)).sort());
    // Container and TTL nodes read as persistent over the client protocol (tree-walk.ts): they come back as such.
    expect(await client.pathExists('/containers/c1/x', false)).toBe(true);
    expect(await client.pathExists('/ttl', false)).toBe(true);
    expect(result.sequenceBumpPairs).toBeGreaterThan(0);
  });

  it('refuses to back up an ACL whose password hash the server hides from it (no ADMIN), naming the node', async () => {
    // Prepare: the application's digest user may do everything on /masked; the backup's may only read it
    const appId = `app:${createHash('sha1').update('app:app-secret').digest('base64')}`;
    await sourceClient.create('/masked', Buffer.from('app data'), 0);
    await sourceClient.set_acl('/masked', -1, [{ perms: 31, scheme: 'digest', auth: appId }, { perms: 1, scheme: 'world', auth: 'anyone' }]);

    // Act
    const walking = (async () => { for await (const _node of walkTree(sourceClient, { refuseMaskedAcls: true })); })();
    const compared = await treeSummary(sourceClient); // a validation's walk reads it as it is

    // Assess
    await expect(walking).rejects.toMatchObject({ name: 'PermanentError', code: 'AUTH_FAILED', message: expect.stringContaining('authentication failed (ZK_PRIVILEGES): missing permission ADMIN on /masked: its ACL gives digest user app a password hash the server hides') });
    expect(compared.nodeCount).toBeGreaterThan(3000);
    await sourceClient.delete_('/masked', -1);
  });

  it('gives a sequential child created after the restore a name past every restored one, and takes names such as timestamps, which ZooKeeper did not number, as names', async () => {
    // Prepare
    const client = await connect(standalone);
    const restored = (await client.get_children('/queue', false)).map((name) => Number(name.slice(-10)));
    const lines = (await readFile(artifact, 'utf8')).split('\n');
    const line = (node: string) => JSON.parse(lines.find((l) => l.startsWith(`{"path":${JSON.stringify(node)},`))!) as { sequenceHigh?: number };

    // Act
    const name = await client.create('/queue/job-', Buffer.from('after'), ZOO_PERSISTENT_SEQUENTIAL);
    const event = await client.create('/events/evt-', Buffer.from('after'), ZOO_PERSISTENT_SEQUENTIAL);

    // Assess: the restore (above) raised only /queue's counter, by fewer than a hundred pairs
    expect(Math.max(...restored)).toBe(49);
    expect(Number(name.slice(-10))).toBeGreaterThan(49);
    expect(line('/queue').sequenceHigh).toBe(49);
    expect(line('/events').sequenceHigh).toBeUndefined();
    expect((await client.get_children('/events', false)).sort()).toEqual([event.slice('/events/'.length), 'evt-1733450000', 'job-2147483647'].sort());
    await client.delete_(name, -1);
    await client.delete_(event, -1);
  });

  it('refuses a truncated artifact, a flipped byte and a non-empty target before creating anything', async () => {
    // Prepare
    const client = await connect(standalone);
    const whole = await readFile(artifact);
    const truncated = path.join(dir, 'truncated.ndjson');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const flipped = path.join(dir, 'flipped.ndjson');
    const damaged = Buffer.from(whole);
    const at = whole.indexOf('"path":"/app/d7/n50"');
    damaged[at + 40] ^= 0x01;
    await writeFile(flipped, damaged);

    // Act / Assess: not empty
    expect(await treeIsEmpty(client)).toBe(false);
    await expect(restoreTree(client, artifact)).rejects.toMatchObject({ name: 'PermanentError', code: 'ZK_TARGET_NOT_EMPTY' });
    const cleared = await clearTree(client);
    expect(cleared).toBeGreaterThan(3000);
    expect(await treeIsEmpty(client)).toBe(true);
    await expect(restoreTree(client, truncated)).rejects.toMatchObject({ code: 'ZK_CORRUPT_TREE', message: expect.stringContaining('truncated') });
    await expect(restoreTree(client, flipped)).rejects.toMatchObject({ code: 'ZK_CORRUPT_TREE' });
    expect(await treeIsEmpty(client)).toBe(true);
  });

  it('changes nothing of a tree when a parent refuses it ADMIN: no ACL opened, nothing deleted', async () => {
    // Prepare: /b-noadmin grants everyone everything but ADMIN
    const client = await connect(standalone);
    await clearTree(client);
    await client.create('/a-private', Buffer.from('a'), 0);
    await client.create('/a-private/child', Buffer.from('a1'), 0);
    await client.create('/b-noadmin', Buffer.from('b'), 0);
    await client.create('/b-noadmin/child', Buffer.from('b1'), 0);
    await client.set_acl('/a-private', -1, [{ perms: 31, scheme: 'digest', auth: USER_ID }]);
    await client.set_acl('/b-noadmin', -1, [{ perms: 15, scheme: 'world', auth: 'anyone' }]);

    // Act
    const clearing = clearTree(client);

    // Assess
    await expect(clearing).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/checking that the ACL of \/b-noadmin may be opened to delete its children: .*; nothing was changed$/) });
    expect(await aclOf(client, '/a-private')).toEqual([{ perms: 31, scheme: 'digest', auth: USER_ID }]);
    expect(await aclOf(client, '/')).toEqual([{ perms: 31, scheme: 'world', auth: 'anyone' }]);
    expect((await client.get_children('/', false)).sort()).toEqual(['a-private', 'b-noadmin', 'zookeeper']);
    expect(await client.get_children('/a-private', false)).toEqual(['child']);
    expect(await client.get_children('/b-noadmin', false)).toEqual(['child']);
    await client.delete_('/b-noadmin/child', -1);
    await client.delete_('/b-noadmin', -1);
  });

  it('plans a restore touching no target: an artifact of an older version (no sequence numbers recorded) whose names end in timestamps is refused before anything is written', async () => {
    // Prepare: a version 1 artifact (its header and trailer as that version wrote them)
    const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }];
    async function* nodes(): AsyncGenerator<WalkedNode> {
      yield { path: '/', data: Buffer.alloc(0), acl, kind: { type: 'persistent' }, mzxid: 0 };
      yield { path: '/events', data: Buffer.alloc(0), acl, kind: { type: 'persistent' }, mzxid: 1 };
      yield { path: '/events/evt-1733450000', data: Buffer.from('t'), acl, kind: { type: 'persistent' }, mzxid: 2 };
    }
    const v2 = path.join(dir, 'timestamps-v2.ndjson');
    await writeTreeArtifact(v2, nodes());
    const lines = (await readFile(v2, 'utf8')).split('\n').filter(Boolean);
    lines[0] = lines[0].replace('"version":2', '"version":1');
    const trailer = JSON.parse(lines.pop()!) as Record<string, unknown>;
    trailer.sha256 = createHash('sha256').update(lines.map((l) => `${l}\n`).join('')).digest('hex');
    const v1 = path.join(dir, 'timestamps-v1.ndjson');
    await writeFile(v1, `${[...lines, JSON.stringify(trailer)].join('\n')}\n`);

    // Act / Assess
    await expect(planTreeRestore(v1)).rejects.toMatchObject({ code: 'ZK_SEQUENCE_BUMP_TOO_LONG', message: expect.stringMatching(/\/events: past 1733450000.*nothing was written to the target \(this backup, taken by an older version/) });
    await expect(planTreeRestore(v2)).resolves.toMatchObject({ expected: { nodeCount: 3 } });
    const v3 = path.join(dir, 'timestamps-v3.ndjson');
    await writeFile(v3, (await readFile(v2, 'utf8')).replace('"version":2', '"version":3'));
    await expect(planTreeRestore(v3)).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION', message: expect.stringContaining('was written by a newer dbbackup (its version 3; this one reads 1 and 2)') });
  });

  it('restores container and TTL kinds an artifact carries (as the server\'s transaction log shows)', async () => {
    // Prepare: kinds a client cannot read, so an artifact written from nodes that carry them.
    const client = await connect(standalone);
    await clearTree(client);
    const file = path.join(dir, 'kinds.ndjson');
    const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }];
    async function* nodes(): AsyncGenerator<WalkedNode> {
      yield { path: '/', data: Buffer.alloc(0), acl, kind: { type: 'persistent' }, mzxid: 0 };
      yield { path: '/kinds', data: Buffer.alloc(0), acl, kind: { type: 'persistent' }, mzxid: 1 };
      yield { path: '/kinds/box', data: Buffer.from('c'), acl, kind: { type: 'container' }, mzxid: 2 };
      yield { path: '/kinds/box/item', data: Buffer.from('i'), acl, kind: { type: 'persistent' }, mzxid: 3 };
      yield { path: '/kinds/lease', data: Buffer.from('t'), acl, kind: { type: 'ttl', ttlMs: 86_400_000 }, mzxid: 4 };
    }
    await writeTreeArtifact(file, nodes());

    // Act
    const result = await restoreTree(client, file);

    // Assess: the walk cannot see kinds (the digest leaves them out), the server's txn log can.
    expect(result.restored?.digest).toBe(result.expected.digest);
    const logDir = path.join(standalone.members[0].dataLogDir, 'version-2');
    const { stdout: files } = await promisify(execFile)('ls', [logDir]);
    const logs = files.split('\n').filter((f) => f.startsWith('log.'));
    const texts = await Promise.all(logs.map((log) => promisify(execFile)('java', ['-cp', `${ZOOKEEPER_JAR}:/usr/share/java/slf4j-simple.jar`, 'org.apache.zookeeper.server.persistence.TxnLogToolkit', path.join(logDir, log)], { maxBuffer: 256 * 1024 * 1024 })));
    const text = texts.map((t) => t.stdout).join('\n');
    expect(text).toMatch(/createContainer \/kinds\/box,/);
    expect(text).toMatch(/createTtl \/kinds\/lease,t,\[31,s\{'world,'anyone\}\s*\],\d+,86400000/);
  });

  it('measures creates per second: pipelined against one awaited create per node', async () => {
    // Prepare: 20 000 small nodes under 200 parents; the awaited run takes the first 2 000 (20 parents), to stay short.
    const client = await connect(standalone);
    await clearTree(client);
    const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }];
    async function* nodes(parents: number): AsyncGenerator<WalkedNode> {
      yield { path: '/', data: Buffer.alloc(0), acl, kind: { type: 'persistent' }, mzxid: 0 };
      yield { path: '/perf', data: Buffer.alloc(0), acl, kind: { type: 'persistent' }, mzxid: 0 };
      for (let p = 0; p < parents; p += 1) {
        yield { path: `/perf/p${p}`, data: Buffer.alloc(0), acl, kind: { type: 'persistent' }, mzxid: 0 };
        for (let l = 0; l < 99; l += 1) yield { path: `/perf/p${p}/l${l}`, data: Buffer.from(`value ${p}/${l}`), acl, kind: { type: 'persistent' }, mzxid: 0 };
      }
    }
    const large = await writeTreeArtifact(path.join(dir, 'perf-20000.ndjson'), nodes(200));
    const small = await writeTreeArtifact(path.join(dir, 'perf-2000.ndjson'), nodes(20));

    // Act
    const pipelined = await restoreTree(client, large.file, { check: false });
    await clearTree(client);
    const awaited = await restoreTree(client, small.file, { window: 1, check: false });

    // Assess (printed, not asserted on time)
    const rate = (created: number, ms: number) => Math.round(created / (ms / 1000));
    const pipelinedRate = rate(pipelined.created, pipelined.createMs);
    const awaitedRate = rate(awaited.created, awaited.createMs);
    process.stderr.write(`zookeeper logical restore: pipelined (window 256) ${pipelined.created} creates in ${Math.round(pipelined.createMs)} ms = ${pipelinedRate}/s; `
      + `one awaited create per node ${awaited.created} creates in ${Math.round(awaited.createMs)} ms = ${awaitedRate}/s; ratio ${(pipelinedRate / awaitedRate).toFixed(1)}x\n`);
    expect(pipelined.created).toBe(large.nodeCount - 1);
    expect(awaited.created).toBe(small.nodeCount - 1);
    await clearTree(client);
  });
});
