/**
 * Puts a backed-up node's staged SSTables into a live node's table directories, for
 * `nodetool refresh` to load: each table found by its LIVE id (a table recreated since the backup
 * has a new one), each SSTable under a generation no live file of that table uses (a restored
 * file never overwrites a live one), `Data.db` last (an SSTable without it is not loaded). A
 * secondary index's own SSTables are left out: refresh rebuilds the index from the loaded rows.
 */
import { copyFile, mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../core/errors';
import type { ResolvedNode } from './config';
import { parseSSTableName, type SSTableName } from './sstable-names';

/** `d<i>/<ks>/<table>/<file>` (not a secondary index's `.<index>/` sub-directory). */
const ARTIFACT = /^d(\d+)\/([^/]+)\/([^/]+)\/([^/]+)$/;

export interface StagedSSTable {
  dataDir: number;
  keyspace: string;
  table: string;
  name: SSTableName;
  /** Component → staged file. */
  components: Map<string, string>;
}

/** The SSTable component an artifact of a restored table (`ks.table` in `tables`) is, if it is one a restore loads. */
function restoredComponent(artifact: string, tables: ReadonlySet<string>): { dataDir: string; keyspace: string; table: string; name: SSTableName } | undefined {
  const match = ARTIFACT.exec(artifact);
  if (!match) return undefined;
  const [, dataDir, keyspace, table, fileName] = match;
  const name = parseSSTableName(fileName);
  if (!name || !tables.has(`${keyspace}.${table}`)) return undefined;
  // 2.1 names an index's SSTables `<ks>-<table>.<index>-ka-…`.
  if (/^[^-]+-[^-]*\./.test(name.sstable)) return undefined;
  return { dataDir, keyspace, table, name };
}

/** The artifacts a restore of `tables` (`ks.table`) downloads and loads: the tables' SSTable components, not their indexes'. */
export function restoredArtifacts<A extends { name: string }>(artifacts: readonly A[], tables: ReadonlySet<string>): A[] {
  return artifacts.filter((a) => restoredComponent(a.name, tables));
}

/** The staged SSTables of the restored tables (artifact name → staged file), grouped. */
export function groupStaged(staged: Record<string, string>, tables: ReadonlySet<string>): StagedSSTable[] {
  const byName = new Map<string, StagedSSTable>();
  for (const [artifact, file] of Object.entries(staged)) {
    const component = restoredComponent(artifact, tables);
    if (!component) continue;
    const { dataDir, keyspace, table, name } = component;
    const key = `${dataDir}/${keyspace}/${table}/${name.sstable}`;
    const entry = byName.get(key) ?? { dataDir: Number(dataDir), keyspace, table, name, components: new Map() };
    entry.components.set(name.component, file);
    byName.set(key, entry);
  }
  return [...byName.values()];
}

/** The highest numeric generation among `dirs`' files. */
async function maxGeneration(dirs: readonly string[]): Promise<number> {
  let max = 0;
  for (const dir of dirs) {
    for (const file of await readdir(dir).catch(() => [] as string[])) {
      const generation = Number(parseSSTableName(file)?.generation);
      if (Number.isSafeInteger(generation)) max = Math.max(max, generation);
    }
  }
  return max;
}

/** The file name of `component` of `sstable` under `generation`, in the scheme it was written in. */
export function renamed(sstable: StagedSSTable, generation: number, component: string): string {
  const { name, keyspace, table } = sstable;
  const numeric = /^\d+$/.test(name.generation);
  const gen = numeric ? String(generation) : name.generation;
  return name.sstable.startsWith(`${keyspace}-${table}-`)
    ? `${keyspace}-${table}-${name.version}-${gen}-${component}`
    : `${name.sstable.replace(`${name.version}-${name.generation}-`, `${name.version}-${gen}-`)}-${component}`;
}

/**
 * Places the staged SSTables of `tables` (`ks.table`) on `node`; returns the tables that got some.
 * `liveIds` maps `ks.table` to the table's live id.
 */
export async function placeSSTables(staged: Record<string, string>, node: ResolvedNode, tables: ReadonlySet<string>, liveIds: ReadonlyMap<string, string>): Promise<string[]> {
  const sstables = groupStaged(staged, tables);
  const placed = new Set<string>();
  const next = new Map<string, number>();
  for (const sstable of sstables) {
    const key = `${sstable.keyspace}.${sstable.table}`;
    const id = liveIds.get(key);
    if (!id) throw new PermanentError(`cassandra: table ${key} does not exist on ${node.address}`, { code: 'CASSANDRA_NO_SUCH_TABLE', engine: 'cassandra' });
    const dirName = `${sstable.table}-${id.replace(/-/g, '')}`;
    const dirs = node.dataDirs.map((d) => path.join(d, sstable.keyspace, dirName));
    if (!next.has(key)) next.set(key, await maxGeneration(dirs) + 1);
    const generation = next.get(key)!;
    next.set(key, generation + 1);
    const dir = dirs[sstable.dataDir % dirs.length];
    await mkdir(dir, { recursive: true });
    const components = [...sstable.components.keys()].sort((a, b) => Number(a === 'Data.db') - Number(b === 'Data.db'));
    for (const component of components) {
      const final = path.join(dir, renamed(sstable, generation, component));
      const partial = `${final}.restoring`;
      await copyFile(sstable.components.get(component)!, partial);
      await rename(partial, final);
    }
    placed.add(key);
  }
  return [...placed];
}
