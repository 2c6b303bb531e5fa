/**
 * sstableloader's and nodetool import's command lines (sstable-loader.ts, nodetool.ts), and the
 * directories they load from, built from several backed-up nodes' staged files (table-load-dirs.ts).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { linkTableDirs } from '../../../drivers/cassandra/table-load-dirs';
import { importArgs } from '../../../drivers/cassandra/nodetool';
import { LOADER_ERRORS, loaderArgs, skippedByLoader } from '../../../drivers/cassandra/sstable-loader';
import { distributionRelease } from '../../../drivers/cassandra/distribution';

const BASE = { home: '/opt/cassandra', contactPoints: ['10.0.0.1', '10.0.0.2'], nativePort: 9042, thriftPort: 9160, storagePort: 7000 };

describe('sstableloader arguments', () => {
  it('2.x reads the ring over Thrift; 3.x and later over the native port, with the storage port as an option', () => {
    expect(loaderArgs({ ...BASE, releaseVersion: '2.1.0' }, '/s/load/shop/items')).toEqual(['--nodes', '10.0.0.1,10.0.0.2', '--port', '9160', '--no-progress', '/s/load/shop/items']);
    expect(loaderArgs({ ...BASE, releaseVersion: '4.1.3', username: 'u', password: 'p' }, '/d')).toEqual([
      '--nodes', '10.0.0.1,10.0.0.2', '--port', '9042', '--storage-port', '7000', '--username', 'u', '--password', 'p', '--no-progress', '/d',
    ]);
  });

  it("streams at most at the restore's rate limit: bytes per second as whole megabits, at least one", () => {
    const throttle = (rateLimit: number) => { const args = loaderArgs({ ...BASE, releaseVersion: '2.1.0', rateLimit }, '/d'); return args[args.indexOf('--throttle') + 1]; };
    expect(throttle(12_500_000)).toBe('100');
    expect(throttle(1_000)).toBe('1');
    expect(loaderArgs({ ...BASE, releaseVersion: '2.1.0' }, '/d')).not.toContain('--throttle');
  });
});

describe("what sstableloader left out (it still exits 0)", () => {
  it('finds its skip lines, and nothing in a clean run', () => {
    const out = 'Established connection to initial hosts\nOpening sstables and calculating sections to stream\nSkipping file shop-gone-ka-1-Data.db: column family shop.gone doesn\'t exist\nStreaming relevant part of /s/shop/items/shop-items-ka-1-Data.db to [/10.0.0.1]\n';
    expect(skippedByLoader(out)).toEqual(["Skipping file shop-gone-ka-1-Data.db: column family shop.gone doesn't exist"]);
    expect(skippedByLoader('Established connection to initial hosts\nStreaming relevant part of x to [/10.0.0.1]\n')).toEqual([]);
  });
});

describe("sstableloader's failures", () => {
  it('names a refused login or a missing table even inside 2.x\'s "Could not retrieve endpoint ranges", and only a refused connection is an outage', () => {
    const wrapped = (cause: string) => `Could not retrieve endpoint ranges: \njava.lang.RuntimeException: Could not retrieve endpoint ranges: \nCaused by: ${cause}`;
    expect(LOADER_ERRORS.diagnose(wrapped('org.apache.cassandra.thrift.AuthenticationException: Username and/or password are incorrect'))).toMatchObject({ code: 'CASSANDRA_AUTH_FAILED' });
    expect(LOADER_ERRORS.diagnose(wrapped('InvalidRequestException(why:Keyspace shop does not exist)'))).toMatchObject({ code: 'CASSANDRA_NO_SUCH_TABLE' });
    expect(LOADER_ERRORS.diagnose(wrapped('org.apache.thrift.transport.TTransportException: java.net.ConnectException: Connection refused'))).toMatchObject({ code: 'CASSANDRA_UNAVAILABLE', transient: true });
  });
});

describe('the Cassandra release of a distribution', () => {
  let home: string;
  beforeEach(async () => { home = await mkdtemp(path.join(os.tmpdir(), 'cassandra-home-')); });
  afterEach(async () => { await rm(home, { recursive: true, force: true }); });

  it('is read from its lib/apache-cassandra-<release>.jar, and a directory without one is refused', async () => {
    await mkdir(path.join(home, 'lib'));
    for (const jar of ['apache-cassandra-clientutil-4.1.3.jar', 'apache-cassandra-4.1.3.jar', 'guava-27.jar']) await writeFile(path.join(home, 'lib', jar), '');
    expect(distributionRelease(home)).toBe('4.1.3');
    expect(() => distributionRelease(path.join(home, 'nothing'))).toThrow(expect.objectContaining({ code: 'MISSING_TOOL' }));
  });
});

describe('the directories sstableloader streams from', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'table-load-dirs-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  /** A backed-up node's staged SSTable components, artifact name → file. */
  async function staged(node: string, artifacts: string[]): Promise<Record<string, string>> {
    const files: Record<string, string> = {};
    for (const artifact of artifacts) {
      const file = path.join(dir, node, artifact);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${node}/${artifact}`);
      files[artifact] = file;
    }
    return files;
  }

  it('one directory per table, every node and data dir in it under fresh generations; indexes and other tables left out', async () => {
    // Prepare: two nodes whose SSTables share generation 1; JBOD on the first; an index and an unrestored table
    const a = await staged('a', ['d0/shop/items/shop-items-ka-1-Data.db', 'd0/shop/items/shop-items-ka-1-Index.db', 'd1/shop/items/shop-items-ka-1-Data.db',
      'd0/shop/items/shop-items.items_name_idx-ka-1-Data.db', 'd0/shop/other/shop-other-ka-1-Data.db']);
    const b = await staged('b', ['d0/shop/items/shop-items-ka-1-Data.db', 'd0/shop/events/nb-4-big-Data.db']);

    // Act
    const dirs = await linkTableDirs(path.join(dir, 'load'), [a, b], new Set(['shop.items', 'shop.events']));

    // Assess
    expect(dirs).toEqual([path.join(dir, 'load/shop/events'), path.join(dir, 'load/shop/items')]);
    expect((await readdir(dirs[1])).sort()).toEqual(['shop-items-ka-1-Data.db', 'shop-items-ka-1-Index.db', 'shop-items-ka-2-Data.db', 'shop-items-ka-3-Data.db']);
    expect(await readFile(path.join(dirs[1], 'shop-items-ka-1-Index.db'), 'utf8')).toBe('a/d0/shop/items/shop-items-ka-1-Index.db');
    expect(await readFile(path.join(dirs[1], 'shop-items-ka-3-Data.db'), 'utf8')).toBe('b/d0/shop/items/shop-items-ka-1-Data.db');
    expect(await readdir(dirs[0])).toEqual(['nb-1-big-Data.db']);
  });

  it('starts from an empty directory on a retry', async () => {
    const a = await staged('a', ['d0/shop/items/shop-items-ka-1-Data.db']);
    await linkTableDirs(path.join(dir, 'load'), [a], new Set(['shop.items']));
    const [again] = await linkTableDirs(path.join(dir, 'load'), [a], new Set(['shop.items']));
    expect(await readdir(again)).toEqual(['shop-items-ka-1-Data.db']);
  });
});

describe('nodetool import (4.x)', () => {
  it('copies from our directory rather than moving, with the names after `--`', () => {
    expect(importArgs('shop', 'items', '/s/import/shop/items')).toEqual(['import', '--copy-data', '--', 'shop', 'items', '/s/import/shop/items']);
  });
});
