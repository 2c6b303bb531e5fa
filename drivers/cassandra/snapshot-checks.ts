/**
 * The validate step's checks of a node's snapshot, where its artifacts are: pooled components in
 * the store (size, and sha256 as the store recorded it, else re-hashed; of the stored bytes), the schema in the spool
 * (re-hashed); and every SSTable with each component its stored `TOC.txt` lists.
 */
import { ArtifactReader, verifyArtifact } from '../../core/driver/artifact-sink';
import { storedBytesOf } from '../../core/driver/artifact-check';
import type { ArtifactRef, BackupContext, SnapshotRef } from '../../core/driver/types';
import { parseSSTableName, tocComponents } from './sstable-names';

/** One problem per artifact missing or not as recorded (empty: all intact). */
export async function verifyStoredArtifacts(ctx: Pick<BackupContext, 'destination'>, snap: SnapshotRef): Promise<string[]> {
  const store = ctx.destination?.store;
  const problems: string[] = [];
  for (const artifact of snap.artifacts) {
    if (artifact.key !== undefined && store) {
      const expected = storedBytesOf(artifact); // an encoded artifact's stored bytes
      const info = await store.head(artifact.key);
      if (!info) { problems.push(`${artifact.name}: ${artifact.key} is missing`); continue; }
      if (info.size !== expected.size) { problems.push(`${artifact.name}: ${info.size} bytes in the store, ${expected.size} recorded`); continue; }
      if (info.sha256 !== undefined) {
        if (info.sha256 !== expected.sha256) problems.push(`${artifact.name}: sha256 ${info.sha256} in the store, ${expected.sha256} recorded`);
        continue;
      }
    }
    await verifyArtifact(snap.spoolDir, artifact, store).catch((error: Error) => problems.push(`${artifact.name}: ${error.message}`));
  }
  return problems;
}

/** The artifact's SSTable (`d<i>/<ks>/<table>/[<sub>/]<sstable>`) and component, or undefined for other files. */
function sstableOf(name: string): { sstable: string; component: string } | undefined {
  const cut = name.lastIndexOf('/');
  const parsed = parseSSTableName(name.slice(cut + 1));
  return parsed && cut > 0 ? { sstable: `${name.slice(0, cut)}/${parsed.sstable}`, component: parsed.component } : undefined;
}

/** One problem per SSTable that lacks a component its stored TOC.txt lists (or its Data.db). */
export async function sstablesIncomplete(ctx: Pick<BackupContext, 'destination'>, snap: SnapshotRef): Promise<string[]> {
  const bySSTable = new Map<string, Map<string, ArtifactRef>>();
  for (const artifact of snap.artifacts) {
    const of = sstableOf(artifact.name);
    if (!of) continue;
    const parts = bySSTable.get(of.sstable) ?? new Map<string, ArtifactRef>();
    parts.set(of.component, artifact);
    bySSTable.set(of.sstable, parts);
  }
  const reader = new ArtifactReader(snap.spoolDir, ctx.destination?.store);
  const problems: string[] = [];
  for (const [sstable, parts] of bySSTable) {
    const toc = parts.get('TOC.txt');
    const listed = toc ? tocComponents((await reader.readAll(toc)).toString('utf8')) : [];
    const missing = [...new Set(['Data.db', ...listed])].filter((c) => !parts.has(c));
    if (missing.length > 0) problems.push(`${sstable} lacks ${missing.join(', ')}`);
  }
  return problems;
}
