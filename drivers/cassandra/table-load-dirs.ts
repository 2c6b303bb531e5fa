/**
 * The directories SSTables are loaded from by a tool (sstableloader, 4.x's `nodetool import`), one
 * per restored table: `<root>/<keyspace>/<table>/` (sstableloader takes the keyspace from the parent
 * directory), holding hard links to the staged SSTables of every backed-up node loaded from here,
 * of every data directory. SSTables of different nodes share generation numbers, so each gets a
 * fresh one (1, 2, …) in its table's directory.
 */
import { link, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { resolveInside } from '../../core/io/resolve-inside';
import { groupStaged, renamed } from './sstable-placement';

/**
 * Links the staged SSTables of `tables` (`ks.table`) from each of `staged` (artifact name → staged
 * file, one map per backed-up node) under `root` (emptied first); returns the table directories
 * that got some.
 */
export async function linkTableDirs(root: string, staged: ReadonlyArray<Record<string, string>>, tables: ReadonlySet<string>): Promise<string[]> {
  await rm(root, { recursive: true, force: true });
  const next = new Map<string, number>();
  const dirs = new Set<string>();
  for (const node of staged) {
    for (const sstable of groupStaged(node, tables)) {
      const dir = resolveInside(root, path.join(sstable.keyspace, sstable.table));
      const generation = (next.get(dir) ?? 0) + 1;
      next.set(dir, generation);
      await mkdir(dir, { recursive: true });
      for (const [component, file] of sstable.components) await link(file, path.join(dir, renamed(sstable, generation, component)));
      dirs.add(dir);
    }
  }
  return [...dirs].sort();
}
