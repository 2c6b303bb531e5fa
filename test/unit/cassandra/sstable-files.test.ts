/**
 * SSTable names in both schemes (sstable-names.ts), a snapshot's files over JBOD data dirs
 * (snapshot-files.ts), and restored SSTables placed under fresh generations (sstable-placement.ts),
 * on real directories.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseSSTableName } from '../../../drivers/cassandra/sstable-names';
import { assertSSTablesComplete, listSnapshotFiles } from '../../../drivers/cassandra/snapshot-files';
import { placeSSTables } from '../../../drivers/cassandra/sstable-placement';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'sstable-files-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const COMPONENTS_21 = ['Data.db', 'Index.db', 'Filter.db', 'Summary.db', 'Statistics.db', 'CompressionInfo.db', 'Digest.sha1', 'TOC.txt'];

async function writeSSTable(tableDir: string, prefix: string, components = COMPONENTS_21): Promise<void> {
  await mkdir(tableDir, { recursive: true });
  for (const component of components) {
    await writeFile(path.join(tableDir, `${prefix}-${component}`), component === 'TOC.txt' ? `${COMPONENTS_21.join('\n')}\n` : `${prefix} ${component}`);
  }
}

describe('SSTable names', () => {
  it('reads 2.1 names, a 2.1 index table, and the 2.2+ scheme (numeric and unique-id generations)', () => {
    expect(parseSSTableName('shop-items-ka-12-Data.db')).toEqual({ sstable: 'shop-items-ka-12', component: 'Data.db', version: 'ka', generation: '12' });
    expect(parseSSTableName('shop-items.items_name_idx-ka-3-Index.db')).toMatchObject({ sstable: 'shop-items.items_name_idx-ka-3', component: 'Index.db' });
    expect(parseSSTableName('nb-7-big-Statistics.db')).toEqual({ sstable: 'nb-7-big', component: 'Statistics.db', version: 'nb', generation: '7' });
    expect(parseSSTableName('oa-3gfn_0y7f_2n8qo2hpmj1v5sg6lk-bti-Partitions.db')).toMatchObject({ sstable: 'oa-3gfn_0y7f_2n8qo2hpmj1v5sg6lk-bti', component: 'Partitions.db' });
    expect(parseSSTableName('manifest.json')).toBeUndefined();
    expect(parseSSTableName('schema.cql')).toBeUndefined();
  });
});

describe("a node's snapshot files", () => {
  const table = { keyspace: 'shop', table: 'items', dirName: 'items-0123456789abcdef0123456789abcdef' };

  it('lists every component of every data dir (JBOD) and 3.x index sub-dirs, named by data dir; copies rewritable components', async () => {
    // Prepare
    const dataDirs = [path.join(dir, 'data1'), path.join(dir, 'data2')];
    const snap = (d: string) => path.join(d, 'shop', table.dirName, 'snapshots', 'tag1');
    await writeSSTable(snap(dataDirs[0]), 'shop-items-ka-1');
    await writeSSTable(snap(dataDirs[1]), 'shop-items-ka-2');
    await writeSSTable(path.join(snap(dataDirs[1]), '.items_name_idx'), 'nb-1-big', ['Data.db', 'TOC.txt']);
    await writeFile(path.join(snap(dataDirs[0]), 'manifest.json'), '{}');

    // Act
    const files = await listSnapshotFiles(dataDirs, [table], 'tag1');

    // Assess
    expect(files.filter((f) => f.component === 'Data.db').map((f) => f.name)).toEqual([
      'd0/shop/items/shop-items-ka-1-Data.db', 'd1/shop/items/.items_name_idx/nb-1-big-Data.db', 'd1/shop/items/shop-items-ka-2-Data.db',
    ]);
    expect(files.find((f) => f.name === 'd0/shop/items/manifest.json')).toMatchObject({ mutable: false });
    expect(files.find((f) => f.name === 'd0/shop/items/manifest.json')?.sstable).toBeUndefined();
    expect(files.filter((f) => f.mutable).map((f) => f.component).sort()).toEqual(['Statistics.db', 'Statistics.db', 'Summary.db', 'Summary.db']);
    expect(new Set(files.flatMap((f) => (f.sstable ? [f.sstable] : []))).size).toBe(3);
  });

  it('refuses an SSTable lacking a component its TOC lists, naming both', async () => {
    // Prepare
    const dataDir = path.join(dir, 'data');
    await writeSSTable(path.join(dataDir, 'shop', table.dirName, 'snapshots', 'tag1'), 'shop-items-ka-4', COMPONENTS_21.filter((c) => c !== 'Filter.db'));
    const files = await listSnapshotFiles([dataDir], [table], 'tag1');

    // Act
    const error = await assertSSTablesComplete(files).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PermanentError', code: 'CASSANDRA_SSTABLE_INCOMPLETE' });
    expect((error as Error).message).toContain('d0/shop/items/shop-items-ka-4 lacks Filter.db');
  });
});

describe('restored SSTables placed in a live table directory', () => {
  it('takes generations no live file uses, under the live table id, in the data dir it came from; leaves index SSTables out', async () => {
    // Prepare: the live table (recreated: another id) already holds generations 1–5
    const staged = path.join(dir, 'staged');
    const files: Record<string, string> = {};
    for (const [name, prefix] of [['d0/shop/items', 'shop-items-ka-1'], ['d1/shop/items', 'shop-items-ka-2'], ['d0/shop/items', 'shop-items.items_idx-ka-1']]) {
      await writeSSTable(path.join(staged, name), prefix);
      for (const component of COMPONENTS_21) files[`${name}/${prefix}-${component}`] = path.join(staged, name, `${prefix}-${component}`);
    }
    const liveId = 'fedcba98-7654-3210-fedc-ba9876543210';
    const liveDirs = [path.join(dir, 'live1'), path.join(dir, 'live2')];
    const tableDir = (d: string) => path.join(d, 'shop', 'items-fedcba9876543210fedcba9876543210');
    await writeSSTable(tableDir(liveDirs[1]), 'shop-items-ka-5');

    // Act
    const placed = await placeSSTables(files, { address: '127.0.0.1', jmxPort: 7199, dataDirs: liveDirs }, new Set(['shop.items']), new Map([['shop.items', liveId]]));

    // Assess
    expect(placed).toEqual(['shop.items']);
    const first = await readdir(tableDir(liveDirs[0]));
    const second = await readdir(tableDir(liveDirs[1]));
    expect(first.sort()).toEqual(COMPONENTS_21.map((c) => `shop-items-ka-6-${c}`).sort());
    expect(second.filter((f) => f.includes('-ka-7-')).sort()).toEqual(COMPONENTS_21.map((c) => `shop-items-ka-7-${c}`).sort());
    expect(await readFile(path.join(tableDir(liveDirs[1]), 'shop-items-ka-5-Data.db'), 'utf8')).toBe('shop-items-ka-5 Data.db');
    expect(await readFile(path.join(tableDir(liveDirs[0]), 'shop-items-ka-6-Data.db'), 'utf8')).toBe('shop-items-ka-1 Data.db');
    expect([...first, ...second].some((f) => f.includes('items_idx') || f.endsWith('.restoring'))).toBe(false);
  });
});
