/**
 * The host-local snapshot and validate steps on a real ZooKeeper 3.8, into the spool and straight
 * into a store: createSnapshot proves the files in the read that copies them, and validateSnapshot
 * proves that the stored bytes are those (re-hashed where they are): a flipped byte or a cut
 * artifact fails it, naming the artifact. A newer snapshot that is not whole (still being written)
 * is passed over, and its copy leaves nothing behind in the store.
 */
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { takeSnapshot } from '../../../core/driver/take-snapshot';
import type { BackupContext, SnapshotRef } from '../../../core/driver/types';
import type { Logger } from '../../../core/logger';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { plugin } from '../../../drivers/zookeeper';
import type { ZooKeeperConfig } from '../../../drivers/zookeeper/config';
import { listZooKeeperFiles } from '../../../drivers/zookeeper/files/select-files';
import { fileNameOf } from '../../../drivers/zookeeper/files/zxid';
import { VERSION_DIR } from '../../../drivers/zookeeper/host-local/member-dirs';
import { tempDir } from '../../harness/test-run';
import { seedTree, startTestZooKeeper, stopAllZooKeeper, type RawClient } from '../../harness/zookeeper';

const driver = plugin.backup!;
let config: ZooKeeperConfig;
let snapDir: string;
const holders: RawClient[] = [];

beforeAll(async () => {
  const zk = await startTestZooKeeper('validate-snapshot', { snapCount: 100 });
  const member = zk.members[0];
  config = { mode: 'host-local', members: [{ address: `${member.address.host}:${member.address.port}`, dataDir: member.dataDir }] };
  snapDir = path.join(member.dataDir, VERSION_DIR);
  holders.push(await seedTree(zk.connectString, 300));
});
afterAll(async () => {
  for (const holder of holders) holder.close();
  await stopAllZooKeeper();
});

async function context(label: string, store?: LocalDirectoryStore): Promise<BackupContext<ZooKeeperConfig> & { warnings: string[] }> {
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, extra) => { warnings.push(`${message} ${JSON.stringify(extra)}`); } };
  const spoolDir = await tempDir(`zk-validate-${label}`);
  return { backupId: label, instance: 'zk', config, node: { name: 'member-1' }, spoolDir, logger, warnings, ...(store ? { destination: { store, prefix: `${label}/data/member-1` } } : {}) };
}

/** Where an artifact's bytes are: its store object, or its spool file. */
function fileOf(ctx: BackupContext<ZooKeeperConfig>, snapshot: SnapshotRef, name: string, store?: LocalDirectoryStore): string {
  const artifact = snapshot.artifacts.find((a) => a.name === name)!;
  return artifact.key !== undefined ? path.join(store!.root, artifact.key) : path.join(ctx.spoolDir, name);
}

describe.each([['the spool', false], ['the store', true]])('a host-local snapshot in %s', (_where, direct) => {
  it('validates, and fails on a flipped byte or a cut artifact, naming it', async () => {
    // Prepare
    const store = direct ? new LocalDirectoryStore(await tempDir('zk-validate-store')) : undefined;
    const ctx = await context(direct ? 'store' : 'spool', store);
    const snapshot = await takeSnapshot('zookeeper', driver, ctx);
    const [snapshotArtifact, ...logArtifacts] = snapshot.artifacts;
    expect(snapshot.artifacts.every((a) => (a.key !== undefined) === direct)).toBe(true);
    expect(logArtifacts.length).toBeGreaterThanOrEqual(1);

    // Act
    const good = await driver.validateSnapshot(ctx, snapshot);
    const uploaded = await driver.upload(ctx, snapshot, { store: store ?? new LocalDirectoryStore(await tempDir('zk-validate-upload')), prefix: direct ? ctx.destination!.prefix : 'up' });

    // Assess
    expect(good.checks.map((c) => [c.name, c.ok])).toEqual([['artifact-sha256', true], ['record-files', true], ['files-proven', true]]);
    expect(good.checks[2].detail).toContain(`replayed to ${(snapshot.consistency as { zxid: string }).zxid}`);
    expect(uploaded.sentBytes).toBe(direct ? 0 : uploaded.bytes);

    // Act + Assess: one flipped byte in the snapshot
    const snapshotFile = fileOf(ctx, snapshot, snapshotArtifact.name, store);
    const bytes = await readFile(snapshotFile);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(snapshotFile, bytes);
    const flipped = await driver.validateSnapshot(ctx, snapshot);
    expect(flipped.ok).toBe(false);
    expect(flipped.checks.find((c) => c.name === 'artifact-sha256')).toMatchObject({ ok: false, detail: expect.stringContaining(`artifact ${snapshotArtifact.name} does not match its checksum`) });
    expect(flipped.checks.find((c) => c.name === 'files-proven')?.ok).toBe(false);

    // Act + Assess: the last log cut short (and the snapshot still flipped: both named)
    const lastLog = logArtifacts[logArtifacts.length - 1];
    await truncate(fileOf(ctx, snapshot, lastLog.name, store), lastLog.size - 5);
    const cut = await driver.validateSnapshot(ctx, snapshot);
    expect(cut.ok).toBe(false);
    expect(cut.checks.find((c) => c.name === 'artifact-sha256')?.detail).toMatch(new RegExp(`${snapshotArtifact.name}.*; ${lastLog.name}: .*expected ${lastLog.size} bytes.*got ${lastLog.size - 5} bytes`));
  });
});

it('passes over a newer snapshot that is not whole, leaving nothing of its copy in the store', async () => {
  // Prepare: a newer "snapshot" that ends early, as one being written does
  const { snapshots } = await listZooKeeperFiles(snapDir);
  const newest = snapshots[snapshots.length - 1];
  const partial = path.join(snapDir, fileNameOf('snapshot', newest.zxid + 1n));
  await writeFile(partial, (await readFile(newest.file)).subarray(0, 5000));
  const store = new LocalDirectoryStore(await tempDir('zk-validate-partial'));
  const ctx = await context('partial', store);

  try {
    // Act
    const snapshot = await takeSnapshot('zookeeper', driver, ctx);

    // Assess
    expect(snapshot.facts).toMatchObject({ snapshotFile: `snapshot/${path.basename(newest.file)}` });
    expect(ctx.warnings).toEqual([expect.stringMatching(new RegExp(`not whole.*${path.basename(partial)}.*ZooKeeper snapshot .* is corrupt`))]);
    const stored = await readdir(path.join(store.root, ctx.destination!.prefix, 'snapshot'));
    expect(stored).toEqual([path.basename(newest.file)]);
    expect((await driver.validateSnapshot(ctx, snapshot)).ok).toBe(true);
  } finally {
    await rm(partial, { force: true });
  }
});
