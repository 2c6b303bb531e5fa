/**
 * The host-local backup with a member's adminUrl, on a real ZooKeeper 3.8 server whose adminUrl
 * points at a stand-in answering as 3.9 would (test/harness/zookeeper-admin.ts), with the server's
 * own newest snapshot file as the streamed body and that file's zxid as `last_zxid`; then the
 * stand-in answering as 3.8 does, refusing the credential, rate-limiting, and nobody listening.
 * 3.8 has no snapshot command and no 3.9 server runs here, so the 3.9 side is a stand-in; the 3.8
 * side is also checked against a real 3.8 AdminServer.
 */
import path from 'node:path';
import { hashFile } from '../../../core/driver/spool';
import type { BackupContext } from '../../../core/driver/types';
import { AUTH_FAILED, TransientError } from '../../../core/errors';
import type { Logger } from '../../../core/logger';
import type { ZooKeeperConfig } from '../../../drivers/zookeeper/config';
import { validateBackupFiles } from '../../../drivers/zookeeper/files/validate-files';
import { selectFiles } from '../../../drivers/zookeeper/files/select-files';
import { hostLocalSnapshot, spooledFiles } from '../../../drivers/zookeeper/host-local/backup';
import { VERSION_DIR } from '../../../drivers/zookeeper/host-local/member-dirs';
import { zxidHex } from '../../../drivers/zookeeper/records';
import { freePort } from '../../harness/ports';
import { tempDir } from '../../harness/test-run';
import { connectRaw, SEED_AUTH, seedTree, startTestZooKeeper, stopAllZooKeeper, type RawClient } from '../../harness/zookeeper';
import { recorded38Answer, startFakeAdminServer, type AdminAnswer, type FakeAdminServer } from '../../harness/zookeeper-admin';

let address: string;
let dataDir: string;
let snapshot: { file: string; zxid: bigint };
const holders: RawClient[] = [];
const servers: FakeAdminServer[] = [];

beforeAll(async () => {
  // A server with several snapshots behind it, then writes after its newest one, so the backup
  // needs the logs after the streamed snapshot.
  const zk = await startTestZooKeeper('admin-snapshot', { snapCount: 100 });
  const member = zk.members[0];
  address = `${member.address.host}:${member.address.port}`;
  dataDir = member.dataDir;
  holders.push(await seedTree(zk.connectString, 300));
  const chosen = await selectFiles({ snapDir: path.join(dataDir, VERSION_DIR), mode: 'live' });
  snapshot = { file: chosen.snapshot.file, zxid: chosen.snapshot.zxid };
  const writer = await connectRaw(zk.connectString);
  holders.push(writer);
  for (let i = 0; i < 20; i += 1) await writer.create(`/after-${i}`, `written after snapshot ${zxidHex(snapshot.zxid)}`, 0);
});
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const holder of holders) holder.close();
  await stopAllZooKeeper();
});

/** A backup of the member through `hostLocalSnapshot`, its adminUrl at a stand-in giving `answer`. */
async function backup(label: string, adminUrl: string, on: { address: string; dataDir: string } = { address, dataDir }) {
  const warnings: { message: string; extra?: Record<string, unknown> }[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, extra) => { warnings.push({ message, extra }); } };
  const spoolDir = await tempDir(`zk-admin-${label}`);
  const config: ZooKeeperConfig = { mode: 'host-local', members: [{ address: on.address, adminUrl, dataDir: on.dataDir }], auth: [SEED_AUTH] };
  const ctx: BackupContext<ZooKeeperConfig> = { backupId: label, instance: 'zk', logger, config, node: { name: 'member-1' }, spoolDir };
  return { taken: hostLocalSnapshot(ctx), spoolDir, warnings };
}

async function serve(answer: AdminAnswer): Promise<FakeAdminServer> {
  const server = await startFakeAdminServer(() => answer);
  servers.push(server);
  return server;
}

it('takes the snapshot the AdminServer streams, named by its last_zxid, and the logs after it: the backup validates at that snapshot zxid', async () => {
  // Prepare
  const admin = await serve({ kind: 'snapshot', file: snapshot.file, lastZxid: snapshot.zxid });

  // Act
  const { taken, spoolDir, warnings } = await backup('streamed', admin.url);
  const result = await taken;

  // Assess: the streamed bytes are the file's, under snapshot/snapshot.<last_zxid>.
  const name = `snapshot/snapshot.${snapshot.zxid.toString(16)}`;
  const streamed = result.artifacts.find((a) => a.name.startsWith('snapshot/'));
  expect(streamed).toEqual({ name, ...(await hashFile(snapshot.file)) });
  expect(admin.requests).toEqual([{ url: '/commands/snapshot?streaming=true', authorization: `digest ${SEED_AUTH.credential}` }]);
  expect(warnings).toEqual([]);
  // The record: the fake's last_zxid is the snapshot zxid; the logs carry the writes after it.
  expect(result.consistency).toMatchObject({ mode: 'host-local', snapshotZxid: zxidHex(snapshot.zxid), serverVersion: '3.8.0' });
  expect(result.facts).toMatchObject({ snapshotFile: name, snapshotSource: 'admin-snapshot' });
  expect((result.facts as { replayedTxns: number }).replayedTxns).toBeGreaterThanOrEqual(20);
  // The spooled files validate as they will be uploaded, and end where the record says.
  const report = await validateBackupFiles(spooledFiles(spoolDir, result.artifacts));
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(zxidHex(report.facts!.lastZxid)).toBe((result.consistency as { zxid: string }).zxid);
  expect(zxidHex(report.facts!.snapshotZxid)).toBe(zxidHex(snapshot.zxid));
});

it.each([
  ['3.8 (its recorded "Unknown command" answer)', 'v38', () => serve({ kind: '3.8' }).then((s) => s.url), /no snapshot command \(ZooKeeper before 3\.9\)/],
  ['nobody listening on the admin port', 'refused', async () => `http://127.0.0.1:${await freePort()}`, /cannot be reached/],
])('falls back to the newest snapshot file when the AdminServer is %s, and says why', async (_what, label, url, reason) => {
  // Act
  const { taken, spoolDir, warnings } = await backup(label, await url());
  const result = await taken;

  // Assess
  expect(result.facts).toMatchObject({ snapshotSource: 'data-dir' });
  // (On a busy machine ZooKeeper may be writing a newer snapshot meanwhile: skipping it is a second, allowed warning.)
  expect(warnings).toEqual(expect.arrayContaining([expect.objectContaining({ extra: expect.objectContaining({ reason: expect.stringMatching(reason) }) })]));
  expect(warnings.filter((w) => !/no snapshot command|cannot be reached|a newer snapshot is not whole/.test(`${w.message} ${JSON.stringify(w.extra)}`))).toEqual([]);
  expect((await validateBackupFiles(spooledFiles(spoolDir, result.artifacts))).ok).toBe(true);
});

it('stops with AUTH_FAILED when the AdminServer refuses the credential, and with a TransientError when it rate-limits the snapshot', async () => {
  // Prepare
  const refusing = await serve({ kind: 'error', status: 403, error: 'Not authorized' });
  const limiting = await serve({ kind: 'error', status: 429, error: null });

  // Act
  const refused = await (await backup('403', refusing.url)).taken.catch((error: unknown) => error);
  const limited = await (await backup('429', limiting.url)).taken.catch((error: unknown) => error);

  // Assess
  expect(refused).toMatchObject({ name: 'PermanentError', code: AUTH_FAILED });
  expect(limited).toBeInstanceOf(TransientError);
  expect(limited).toMatchObject({ code: 'ZK_ADMIN_RATE_LIMITED' });
});

it('falls back on a real 3.8 AdminServer, whose answer is the recorded one', async () => {
  // Prepare: a second server, its AdminServer on.
  const adminPort = await freePort();
  const zk = await startTestZooKeeper('admin-38', { adminPorts: [adminPort] });
  const member = zk.members[0];
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const recorded = await recorded38Answer();

  // Act
  const answer = await fetch(`${adminUrl}/commands/snapshot?streaming=true`, { headers: { authorization: `digest ${SEED_AUTH.credential}` } });
  const { taken, warnings } = await backup('real-38', adminUrl, { address: `${member.address.host}:${member.address.port}`, dataDir: member.dataDir });
  const result = await taken;

  // Assess
  expect({ status: answer.status, type: answer.headers.get('content-type'), body: await answer.text() }).toEqual({ status: recorded.status, type: recorded.headers['content-type'], body: recorded.body });
  expect(result.facts).toMatchObject({ snapshotSource: 'data-dir' });
  expect(warnings).toEqual([expect.objectContaining({ extra: expect.objectContaining({ reason: expect.stringMatching(/Unknown command: snapshot/) }) })]);
});
