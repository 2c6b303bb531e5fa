/**
 * Data for the ZooKeeper benchmark, written through the driver's own client with a request window
 * (logical/request-window.ts), as a real workload would: large nodes for the host-local backup, a
 * wide tree of small nodes for the logical one.
 */
import { randomBytes } from 'node:crypto';
import { zooKeeperConstants, type ZooKeeperClient } from '../drivers/zookeeper/client';
import { RequestWindow } from '../drivers/zookeeper/logical/request-window';

const KB = 1000;
/** Large requests in flight: each up to 900 KB, so a few MB queued at most. */
const LARGE_WINDOW = 8;
const SMALL_WINDOW = 256;
/** Children per group of the small-node tree. */
const GROUP_SIZE = 1000;

/** 100 KB–900 KB, half random bytes and half a repeated line: compressible about 2:1, like real payloads. */
function largePayload(seq: number): Buffer {
  const size = (100 + Math.floor(Math.random() * 800)) * KB;
  const random = randomBytes(Math.floor(size / 2));
  const line = Buffer.from(`node ${seq} payload line, host=bench-${seq % 17} state=ok\n`);
  const text = Buffer.alloc(size - random.length);
  for (let at = 0; at < text.length; at += line.length) line.copy(text, at);
  return Buffer.concat([random, text]);
}

/** Creates `/large/n-<i>` nodes until about `bytes` of data are written; resolves to their paths. */
export async function createLargeNodes(client: ZooKeeperClient, bytes: number): Promise<string[]> {
  const { ZOO_PERSISTENT } = zooKeeperConstants();
  await client.create('/large', Buffer.alloc(0), ZOO_PERSISTENT);
  const window = new RequestWindow(LARGE_WINDOW);
  const paths: string[] = [];
  for (let written = 0; written < bytes;) {
    const data = largePayload(paths.length);
    const path = `/large/n-${String(paths.length).padStart(5, '0')}`;
    paths.push(path);
    written += data.length;
    await window.submit(() => client.create(path, data, ZOO_PERSISTENT));
  }
  await window.drain();
  return paths;
}

/** Overwrites `paths` in turn with fresh payloads until about `bytes` of data are written (log only). */
export async function overwriteLargeNodes(client: ZooKeeperClient, paths: readonly string[], bytes: number): Promise<void> {
  const window = new RequestWindow(LARGE_WINDOW);
  for (let written = 0, i = 0; written < bytes; i += 1) {
    const data = largePayload(i);
    written += data.length;
    const path = paths[i % paths.length];
    await window.submit(() => client.set(path, data, -1));
  }
  await window.drain();
}

/** `/bench/g-<g>/n-<n>`: `count` leaves (plus their groups and /bench) of 40–200 bytes each. */
export async function createSmallTree(client: ZooKeeperClient, count: number): Promise<void> {
  const { ZOO_PERSISTENT } = zooKeeperConstants();
  const window = new RequestWindow(SMALL_WINDOW);
  await window.submit(() => client.create('/bench', Buffer.from('benchmark tree'), ZOO_PERSISTENT));
  for (let i = 0; i < count; i += 1) {
    const group = `/bench/g-${String(Math.floor(i / GROUP_SIZE)).padStart(4, '0')}`;
    if (i % GROUP_SIZE === 0) await window.submit(() => client.create(group, Buffer.from(`group ${group}`), ZOO_PERSISTENT));
    const data = Buffer.from(`leaf ${i} ${'x'.repeat(Math.floor(Math.random() * 160))}`);
    await window.submit(() => client.create(`${group}/n-${String(i % GROUP_SIZE).padStart(4, '0')}`, data, ZOO_PERSISTENT));
  }
  await window.drain();
}
