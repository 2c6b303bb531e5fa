/**
 * adminSnapshot against a stand-in AdminServer answering as 3.9 does (from its sources) and as 3.8
 * does (a recorded answer), and the config's adminUrl. The snapshot streamed from a real 3.8
 * server's file, and the backup through it, are in test/integration/zookeeper/admin-snapshot.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { AUTH_FAILED, PermanentError, TransientError } from '../../../core/errors';
import { zookeeperConfigSchema } from '../../../drivers/zookeeper/config';
import { adminAuthorization, adminSnapshot, parseLastZxid } from '../../../drivers/zookeeper/host-local/admin-snapshot';
import { freePort } from '../../harness/ports';
import { tempDir } from '../../harness/test-run';
import { recorded38Answer, startFakeAdminServer, type AdminAnswer, type FakeAdminServer } from '../../harness/zookeeper-admin';

const AUTH = [{ scheme: 'digest', credential: 'backup:secret' }];
let dir: string;
let body: string;
const servers: FakeAdminServer[] = [];

beforeAll(async () => {
  dir = await tempDir('zk-admin-unit');
  body = path.join(dir, 'body');
  await writeFile(body, randomBytes(300_000));
});
afterAll(async () => { for (const server of servers) await server.close(); });

async function serve(answer: AdminAnswer): Promise<FakeAdminServer> {
  const server = await startFakeAdminServer(() => answer);
  servers.push(server);
  return server;
}

async function take(adminUrl: string, spool: string, auth: typeof AUTH = AUTH) {
  return adminSnapshot({ adminUrl, auth, spoolDir: path.join(dir, spool), folder: 'snapshot' });
}

describe('the config', () => {
  const config = (adminUrl: unknown) => zookeeperConfigSchema.safeParse({ members: [{ address: '10.0.0.5:2181', adminUrl }] });

  it('takes an http or https adminUrl and drops a trailing slash', () => {
    const parsed = config('http://10.0.0.5:8080/');
    expect(parsed.success && parsed.data.members[0].adminUrl).toBe('http://10.0.0.5:8080');
    expect(config('https://zk1.example:8443').success).toBe(true);
  });

  it('refuses other schemes, credentials in the URL, queries and non-URLs', () => {
    for (const bad of ['ftp://10.0.0.5:8080', 'http://u:p@10.0.0.5:8080', 'http://10.0.0.5:8080/?x=1', '10.0.0.5:8080', 42]) {
      expect(config(bad).success).toBe(false);
    }
  });
});

describe('the protocol details', () => {
  it('reads last_zxid as 3.9 writes it (0x and hex), and refuses anything else', () => {
    expect(parseLastZxid('0x10000001d')).toBe(0x10000001dn);
    expect(parseLastZxid('1d')).toBe(0x1dn);
    for (const bad of [undefined, '', '0x', 'zz', '0x12345678901234567']) expect(parseLastZxid(bad)).toBeUndefined();
  });

  it('sends the first digest credential as "digest user:password"', () => {
    expect(adminAuthorization([{ scheme: 'sasl', credential: 'x' }, ...AUTH])).toBe('digest backup:secret');
    expect(adminAuthorization(undefined)).toBeUndefined();
  });
});

describe('adminSnapshot', () => {
  it('streams a 3.9 answer into snapshot/snapshot.<last_zxid>, with its credential and ?streaming=true', async () => {
    // Prepare
    const server = await serve({ kind: 'snapshot', file: body, lastZxid: 0x20000004an });

    // Act
    const taken = await take(server.url, 'ok');

    // Assess
    expect(taken).toMatchObject({ lastZxid: 0x20000004an, artifact: { name: 'snapshot/snapshot.20000004a', size: 300_000 } });
    expect(server.requests).toEqual([{ url: '/commands/snapshot?streaming=true', authorization: 'digest backup:secret' }]);
  });

  it('answers unsupported to 3.8 (the recorded "Unknown command" JSON), a 404, a disabled (503) or failing (500) command, and a refused connection', async () => {
    // Prepare
    const recorded = await recorded38Answer();
    expect(recorded.body).toContain('Unknown command: snapshot');
    const v38 = await serve({ kind: '3.8' });
    const notFound = await serve({ kind: 'not-found' });
    const disabled = await serve({ kind: 'error', status: 503, error: null });
    const failing = await serve({ kind: 'error', status: 500, error: null });
    const nobody = `http://127.0.0.1:${await freePort()}`;

    // Act / Assess
    expect(await take(v38.url, 'v38')).toEqual({ unsupported: expect.stringMatching(/no snapshot command \(ZooKeeper before 3\.9\): Unknown command: snapshot/) });
    expect(await take(notFound.url, '404')).toEqual({ unsupported: expect.stringMatching(/404/) });
    expect(await take(disabled.url, '503')).toEqual({ unsupported: expect.stringMatching(/admin\.snapshot\.enabled=false/) });
    expect(await take(failing.url, '500')).toEqual({ unsupported: expect.stringMatching(/500/) });
    expect(await take(nobody, 'refused')).toEqual({ unsupported: expect.stringMatching(/cannot be reached: .*ECONNREFUSED/) });
  });

  it('answers unsupported when the server takes the connection but never answers', async () => {
    // Prepare: a listener that accepts and stays silent (it never reads, so it is told to let go).
    const accepted: net.Socket[] = [];
    const silent = net.createServer((socket) => { accepted.push(socket); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;

    // Act
    const taken = await adminSnapshot({ adminUrl: `http://127.0.0.1:${port}`, auth: AUTH, spoolDir: path.join(dir, 'silent'), folder: 'snapshot', idleTimeoutMs: 50 });
    for (const socket of accepted) socket.destroy();
    await new Promise<void>((resolve) => { silent.close(() => resolve()); });

    // Assess
    expect(taken).toEqual({ unsupported: expect.stringMatching(/no answer in 50 ms/) });
  });

  it('refuses a 401 or 403 as AUTH_FAILED, saying whether a credential was sent', async () => {
    // Prepare
    const missing = await serve({ kind: 'error', status: 401, error: 'Auth info is missing for the command' });
    const refused = await serve({ kind: 'error', status: 403, error: 'Not authorized' });

    // Act
    const withoutCredential = await take(missing.url, '401', []).catch((error: unknown) => error);
    const withCredential = await take(refused.url, '403').catch((error: unknown) => error);

    // Assess
    expect(withoutCredential).toBeInstanceOf(PermanentError);
    expect(withoutCredential).toMatchObject({ code: AUTH_FAILED, message: expect.stringMatching(/no digest credential.*Auth info is missing/) });
    expect(missing.requests[0].authorization).toBeUndefined();
    expect(withCredential).toMatchObject({ code: AUTH_FAILED, message: expect.stringMatching(/credential in auth was refused: Not authorized/) });
  });

  it('is transient when rate-limited (429) or the server is not serving', async () => {
    const limited = await serve({ kind: 'error', status: 429, error: null });
    const starting = await serve({ kind: 'error', status: 200, error: 'This ZooKeeper instance is not currently serving requests' });
    const rateLimited = await take(limited.url, '429').catch((error: unknown) => error);
    expect(rateLimited).toBeInstanceOf(TransientError);
    expect(rateLimited).toMatchObject({ code: 'ZK_ADMIN_RATE_LIMITED' });
    await expect(take(starting.url, 'starting')).rejects.toMatchObject({ name: 'TransientError', code: 'ZK_NOT_SERVING' });
  });

  it('is transient when the stream breaks off, and leaves no snapshot behind', async () => {
    // Prepare
    const cut = await serve({ kind: 'snapshot', file: body, lastZxid: 0x1dn, cutAfter: 100_000 });

    // Act
    const error = await take(cut.url, 'cut').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'ZK_ADMIN_SNAPSHOT_CUT' });
    expect(await readdir(path.join(dir, 'cut', 'snapshot'))).toEqual([]);
  });

  it('refuses a stream shorter than its snapshot_size, and answers unsupported to one without last_zxid', async () => {
    // Prepare
    const short = await serve({ kind: 'snapshot', file: body, lastZxid: 0x1dn, announcedSize: 300_001 });
    const unnamed = await serve({ kind: 'snapshot', file: body, lastZxid: null });

    // Act
    const error = await take(short.url, 'short').catch((e: unknown) => e);
    const taken = await take(unnamed.url, 'unnamed');

    // Assess
    expect(error).toMatchObject({ name: 'TransientError', code: 'ZK_ADMIN_SNAPSHOT_CUT', message: expect.stringMatching(/300000 bytes .* announced 300001/) });
    expect(await readdir(path.join(dir, 'short', 'snapshot'))).toEqual([]);
    expect(taken).toEqual({ unsupported: expect.stringMatching(/without a last_zxid header/) });
  });
});
