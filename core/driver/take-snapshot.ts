/**
 * The snapshot envelope: core, not the driver, says which backup, engine, instance and spool a
 * snapshot belongs to and when it was taken, gives the driver an empty spool to write into (what a
 * killed attempt left there is gone, so a retry starts clean), and makes what the driver wrote
 * straight into the store durable, together, before the step reports it (artifact-sink.ts writes
 * them `persistLater`), refusing a snapshot that wrote two artifacts under one name.
 */
import { mkdir, rm } from 'node:fs/promises';
import { PermanentError } from '../errors';
import type { ArtifactRef, BackupContext, BackupDriver, SnapshotRef } from './types';

/** Empties the spool, runs the driver's `createSnapshot`, and wraps what it returns in the envelope. */
export async function takeSnapshot<C>(engine: string, driver: BackupDriver<C>, ctx: BackupContext<C>, now: () => Date = () => new Date()): Promise<SnapshotRef> {
  await rm(ctx.spoolDir, { recursive: true, force: true });
  await mkdir(ctx.spoolDir, { recursive: true, mode: 0o700 });
  const { artifacts, consistency, facts, pooledSentBytes } = await driver.createSnapshot(ctx);
  assertDistinctNames(engine, artifacts);
  const stored = artifacts.flatMap((artifact) => (artifact.key !== undefined ? [artifact.key] : []));
  if (stored.length > 0) await ctx.destination?.store.persist?.(stored);
  return { backupId: ctx.backupId, engine, instance: ctx.instance, spoolDir: ctx.spoolDir, artifacts, consistency, facts, ...(pooledSentBytes ? { pooledSentBytes } : {}), createdAt: now().toISOString() };
}

/**
 * Refuses a snapshot two of whose artifacts have one name: the second was written over the first
 * (two tables whose names the driver mapped to one file), so a part of the data is gone — however
 * the validation of what is left turns out.
 * @throws PermanentError `DUPLICATE_ARTIFACT`
 */
function assertDistinctNames(engine: string, artifacts: readonly ArtifactRef[]): void {
  const seen = new Set<string>();
  for (const { name } of artifacts) {
    if (seen.has(name)) {
      throw new PermanentError(`the ${engine} snapshot wrote two artifacts named ${name}: the second replaced the first, so the backup would miss data — a driver bug`, { code: 'DUPLICATE_ARTIFACT', engine });
    }
    seen.add(name);
  }
}
