/**
 * Test harness for the etcd driver: real etcd 3.x servers on free loopback ports in temp dirs,
 * helpers to fill them with data and read them back independently of the driver's digest, and a
 * registry of everything started so `stopAllEtcd()` kills exactly the processes the tests started.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Etcd3, type IRequestOp } from 'etcd3';
import type { BackupContext, BackupRecord, RestoreContext, SnapshotRef, UploadResult } from '../../core/driver/types';
import { silentLogger } from '../../core/logger';
import type { EtcdConfig } from '../../drivers/etcd/config';
import { etcdRestoreTargetSchema, type EtcdRestoreTarget } from '../../drivers/etcd/restore-target';
import { memberPidFile, startLocalEtcd, stopMember, type LocalEtcd } from '../../drivers/etcd/member';
import { freePort, onFreePorts } from './ports';
import { harnessTempDirs } from './test-run';

/** A running test etcd with a connected client. */
export interface TestEtcd extends LocalEtcd {
  /** Temp directory holding the data dir and log. */
  dir: string;
  client: Etcd3;
}

const started: Array<{ stop(): Promise<void> }> = [];
const pidFiles = new Set<string>();
const tempDirs = harnessTempDirs('etcd');

/** A fresh temp directory, removed by {@link stopAllEtcd}. */
export function tempDir(label: string): Promise<string> {
  return tempDirs.make(label);
}

/** Two free loopback URLs for a member that is not started by the harness (e.g. a restore target). */
export async function freeMemberUrls(): Promise<{ clientUrl: string; peerUrl: string }> {
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  return { clientUrl: `http://127.0.0.1:${clientPort}`, peerUrl: `http://127.0.0.1:${peerPort}` };
}

/** A member of a restore target cluster: what `members` lists. */
export interface TargetMemberSpec {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
}

/**
 * `count` members for a cluster restore target on loopback: distinct free ports, data dirs in one
 * fresh temp dir, each tracked so {@link stopAllEtcd} stops what a restore started there.
 */
export async function clusterTargetMembers(label: string, count: number): Promise<TargetMemberSpec[]> {
  const dir = await tempDir(label);
  const ports: number[] = [];
  while (ports.length < count * 2) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return Array.from({ length: count }, (_, i) => {
    const dataDir = path.join(dir, `m${i + 1}`, 'data');
    trackMember(memberPidFile(dataDir));
    return { name: `m${i + 1}`, dataDir, clientUrl: `http://127.0.0.1:${ports[2 * i]}`, peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}` };
  });
}

/**
 * Starts a single-node etcd on free ports (on fresh ones, in a fresh directory, if a port was
 * taken in between) and connects a client to it.
 */
export async function startTestEtcd(label = 'src'): Promise<TestEtcd> {
  const dir = await tempDir(label);
  const etcd = await onFreePorts(2, ([clientPort, peerPort], attempt) => startLocalEtcd({ dir: path.join(dir, `attempt-${attempt}`), clientPort, peerPort, name: label }));
  const client = new Etcd3({ hosts: [etcd.clientUrl] });
  const stop = async () => { client.close(); await etcd.stop(); };
  started.push({ stop });
  return { ...etcd, dir, client, stop };
}

/** Registers a member the code under test started (by its pid file), so {@link stopAllEtcd} stops it. */
export function trackMember(pidFile: string): void {
  pidFiles.add(pidFile);
}

/** Stops every etcd the harness started or was told about, and removes the temp dirs. */
export async function stopAllEtcd(): Promise<void> {
  for (const item of started.splice(0)) await item.stop().catch(() => undefined);
  for (const pidFile of pidFiles) await stopMember(pidFile).catch(() => undefined);
  pidFiles.clear();
  await tempDirs.removeAll();
}

export interface WriteKeysOptions {
  /** Key prefix (default `key/`). */
  prefix?: string;
  /** Value size in bytes (default 64). */
  valueBytes?: number;
  /** Random binary values instead of text (default false). */
  binary?: boolean;
  /** Keys per transaction (default 100; etcd allows 128 ops per txn). */
  batch?: number;
}

/** Writes `count` keys `<prefix><000123>` in transactions of `batch` puts; returns the keys written. */
export async function writeKeys(client: Etcd3, count: number, options: WriteKeysOptions = {}): Promise<string[]> {
  const prefix = options.prefix ?? 'key/';
  const batch = options.batch ?? 100;
  const keys: string[] = [];
  for (let start = 0; start < count; start += batch) {
    const ops: IRequestOp[] = [];
    for (let i = start; i < Math.min(count, start + batch); i += 1) {
      const key = `${prefix}${String(i).padStart(6, '0')}`;
      const value = options.binary
        ? randomBytes(options.valueBytes ?? 64)
        : Buffer.from(`value-${i}-`.padEnd(options.valueBytes ?? 64, 'x'));
      ops.push({ request_put: { key: Buffer.from(key), value } });
      keys.push(key);
    }
    await client.kv.txn({ success: ops });
  }
  return keys;
}

/** One key as read back, everything hex/decimal so `toEqual` shows readable diffs. */
export interface KeyRecord {
  key: string;
  value: string;
  createRevision: string;
  modRevision: string;
  version: string;
}

/**
 * Reads every key (at `revision`, or at the revision of the first page) in pages of 200: an
 * independent check of the driver's digest.
 */
export async function readAllKeys(client: Etcd3, revision?: number): Promise<KeyRecord[]> {
  const end = Buffer.from([0]);
  const records: KeyRecord[] = [];
  let key = end;
  let atRevision = revision;
  for (;;) {
    const page = await client.kv.range({ key, range_end: end, revision: atRevision, limit: 200 });
    atRevision ??= Number(page.header.revision);
    for (const kv of page.kvs) {
      records.push({
        key: kv.key.toString('hex'),
        value: kv.value.toString('hex'),
        createRevision: kv.create_revision,
        modRevision: kv.mod_revision,
        version: kv.version,
      });
    }
    if (!page.more) return records;
    key = Buffer.concat([page.kvs[page.kvs.length - 1].key, end]);
  }
}

/** The member's current revision. */
export async function currentRevision(client: Etcd3): Promise<number> {
  const status = await client.maintenance.status();
  return Number(status.header.revision);
}

/** A backup step context for the etcd driver (single node `default`). */
export function etcdBackupContext(spoolDir: string, config: EtcdConfig, backupId = `bk-${Date.now()}`): BackupContext<EtcdConfig> {
  return { backupId, instance: 'test-etcd', logger: silentLogger, config, node: { name: 'default' }, spoolDir };
}

/** A restore step context for the etcd driver; `target` is parsed with the driver's schema (defaults applied). */
export function etcdRestoreContext(
  backup: BackupRecord,
  target: Record<string, unknown>,
  spoolDir: string,
  force = false,
): RestoreContext<EtcdRestoreTarget> {
  return {
    backupId: backup.backupId,
    instance: backup.instance,
    logger: silentLogger,
    backup,
    target: etcdRestoreTargetSchema.parse(target),
    spoolDir,
    force,
    restoreId: `restore-of-${backup.backupId}`, node: { name: 'default' },
  };
}

/** The backup record a restore sees, built from a snapshot and its upload (what the manifest would hold). */
export function backupRecordOf(snapshot: SnapshotRef, upload: UploadResult): BackupRecord {
  return {
    backupId: snapshot.backupId,
    engine: snapshot.engine,
    instance: snapshot.instance,
    consistency: snapshot.consistency,
    facts: snapshot.facts,
    artifacts: upload.artifacts,
  };
}
