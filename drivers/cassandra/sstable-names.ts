/**
 * SSTable file names, in both schemes Cassandra has used:
 *
 *     <keyspace>-<table>-<version>-<generation>-<Component>   2.0, 2.1   shop-items-ka-7-Data.db
 *     <version>-<generation>-<format>-<Component>             2.2 on     nb-7-big-Data.db, oa-3gfn_0y7f_…-bti-Data.db
 *
 * (2.1 names a secondary index's SSTables `<ks>-<table>.<index>-ka-…`; 3.x keeps them in a
 * `.<index>` sub-directory.) An SSTable is the set of components that share everything before
 * the component; `TOC.txt` lists them.
 */

export interface SSTableName {
  /** Everything before the component: the SSTable's own name. */
  sstable: string;
  /** `Data.db`, `Index.db`, `Statistics.db`, `TOC.txt`, … */
  component: string;
  /** The format version, e.g. `ka` (2.1) or `nb` (4.0). */
  version: string;
  generation: string;
}

const OLD_SCHEME = /^([A-Za-z0-9_]+-[A-Za-z0-9_.]+-([a-z]{2})-(\d+))-([A-Za-z0-9.]+)$/;
const NEW_SCHEME = /^(([a-z]{2})-([A-Za-z0-9_]+)-(?:big|bti))-([A-Za-z0-9.]+)$/;

/** The SSTable and component `file` is a part of, or undefined for any other file (`manifest.json`, `schema.cql`). */
export function parseSSTableName(file: string): SSTableName | undefined {
  const match = NEW_SCHEME.exec(file) ?? OLD_SCHEME.exec(file);
  if (!match) return undefined;
  const [, sstable, version, generation, component] = match;
  return { sstable, component, version, generation };
}

/**
 * Components Cassandra may rewrite after the SSTable was written, in the same file — so through a
 * snapshot's hard link too: the repair time in `Statistics.db` (Medusa issue #587), a resampled
 * `Summary.db`. They are copied before they are hashed, never trusted by name.
 */
const REWRITTEN_IN_PLACE = new Set(['Statistics.db', 'Summary.db']);

export function isRewrittenInPlace(component: string): boolean {
  return REWRITTEN_IN_PLACE.has(component);
}

/** The components a `TOC.txt` lists, one per line. */
export function tocComponents(toc: string): string[] {
  return toc.split('\n').map((line) => line.trim()).filter(Boolean);
}
