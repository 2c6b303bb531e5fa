/**
 * The files of one node's snapshot: under `snapshots/<tag>/` of each table's directory, in every
 * data directory (JBOD), with 3.x's `.<index>` sub-directories; each named as an artifact
 * `d<data dir>/<keyspace>/<table>/<file>`, so the restore knows which directory it came from.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../core/errors';
import { isRewrittenInPlace, parseSSTableName, tocComponents } from './sstable-names';

/** A table of the snapshot: where its directory is named after its id. */
export interface SnapshotTable {
  keyspace: string;
  table: string;
  /** `<table>-<id without dashes>` (schema-cql.ts tableDirName). */
  dirName: string;
}

export interface SnapshotFile {
  /** Absolute path on this host. */
  path: string;
  /** The artifact's name: `d<data dir index>/<keyspace>/<table>/<path in the snapshot dir>`. */
  name: string;
  size: number;
  keyspace: string;
  table: string;
  /** The SSTable it belongs to (`d<data dir index>/<keyspace>/<table>/[<sub dir>/]<sstable name>`), absent for a snapshot's own files (manifest.json, schema.cql). */
  sstable?: string;
  component?: string;
  /** Cassandra may rewrite it in place: copy before hashing. */
  mutable: boolean;
}

/** The snapshot directory of `table` in `dataDir`. */
export function snapshotDir(dataDir: string, table: SnapshotTable, tag: string): string {
  return path.join(dataDir, table.keyspace, table.dirName, 'snapshots', tag);
}

async function entries(dir: string): Promise<Array<{ name: string; isDirectory: boolean }>> {
  try {
    return (await readdir(dir, { withFileTypes: true })).map((e) => ({ name: e.name, isDirectory: e.isDirectory() }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Every file of snapshot `tag` of `tables` in `dataDirs`, in a stable order. */
export async function listSnapshotFiles(dataDirs: readonly string[], tables: readonly SnapshotTable[], tag: string): Promise<SnapshotFile[]> {
  const files: SnapshotFile[] = [];
  for (const [index, dataDir] of dataDirs.entries()) {
    for (const table of tables) {
      const root = snapshotDir(dataDir, table, tag);
      const walk = async (relative: string, depth: number) => {
        for (const entry of (await entries(path.join(root, relative))).sort((a, b) => a.name.localeCompare(b.name))) {
          const rel = relative ? `${relative}/${entry.name}` : entry.name;
          if (entry.isDirectory) {
            // 3.x+: a secondary index's SSTables in `.<index>/`.
            if (depth === 0 && entry.name.startsWith('.')) await walk(rel, depth + 1);
            continue;
          }
          const file = path.join(root, rel);
          const parsed = parseSSTableName(entry.name);
          files.push({
            path: file, name: `d${index}/${table.keyspace}/${table.table}/${rel}`, size: (await stat(file)).size,
            keyspace: table.keyspace, table: table.table, mutable: parsed ? isRewrittenInPlace(parsed.component) : false,
            ...(parsed ? { sstable: `d${index}/${table.keyspace}/${table.table}/${relative ? `${relative}/` : ''}${parsed.sstable}`, component: parsed.component } : {}),
          });
        }
      };
      await walk('', 0);
    }
  }
  return files;
}

/**
 * Refuses a snapshot that holds no SSTable of a table whose rows the node serves (`rows`, by
 * `keyspace.table`: what the node's primary token ranges held just before): its SSTables are
 * elsewhere, so the backup would hold the table's digest and none of its data, and pass every
 * check until a restore. The usual cause is `dataDirs` not naming the node's
 * `data_file_directories`.
 * @throws PermanentError `CASSANDRA_SNAPSHOT_EMPTY` naming the tables and where they were looked for
 */
export function assertSnapshotHoldsRows(files: readonly SnapshotFile[], rows: ReadonlyMap<string, number>, where: { node: string; dataDirs: readonly string[]; tag: string }): void {
  const held = new Set(files.filter((f) => f.sstable !== undefined).map((f) => `${f.keyspace}.${f.table}`));
  const empty = [...rows].filter(([table, count]) => count > 0 && !held.has(table));
  if (empty.length === 0) return;
  throw new PermanentError(
    `node ${where.node}: snapshot ${where.tag} has no SSTable of ${empty.length} table(s) whose rows it serves (${empty.slice(0, 5).map(([table, count]) => `${table}: ${count} rows`).join(', ')}${empty.length > 5 ? ', …' : ''}) under ${where.dataDirs.join(', ')}: `
    + 'is dataDirs the node\'s data_file_directories (or was the table emptied since it was counted)?',
    { code: 'CASSANDRA_SNAPSHOT_EMPTY', engine: 'cassandra' },
  );
}

/**
 * Checks every SSTable of `files` has each component its `TOC.txt` lists (and a `Data.db`).
 * @throws PermanentError `CASSANDRA_SSTABLE_INCOMPLETE` naming each SSTable and what it lacks.
 */
export async function assertSSTablesComplete(files: readonly SnapshotFile[]): Promise<number> {
  const bySSTable = new Map<string, SnapshotFile[]>();
  for (const file of files) if (file.sstable) bySSTable.set(file.sstable, [...(bySSTable.get(file.sstable) ?? []), file]);
  const problems: string[] = [];
  for (const [sstable, parts] of bySSTable) {
    const have = new Set(parts.map((p) => p.component));
    const toc = parts.find((p) => p.component === 'TOC.txt');
    const listed = toc ? tocComponents(await readFile(toc.path, 'utf8')) : [];
    const missing = [...new Set(['Data.db', ...listed])].filter((c) => !have.has(c));
    if (missing.length > 0) problems.push(`${sstable} lacks ${missing.join(', ')}`);
  }
  if (problems.length > 0) {
    throw new PermanentError(`cassandra snapshot incomplete: ${problems.join('; ')}`, { code: 'CASSANDRA_SSTABLE_INCOMPLETE', engine: 'cassandra' });
  }
  return bySSTable.size;
}
