/**
 * Upload checkpoints: small JSON files recording how far a resumable upload got. They are written
 * atomically (temporary file + rename), so a crash leaves either the previous or the new checkpoint.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { readJsonFile, writeFileAtomically } from '../io/json-file';

/** The checkpoint at `file` if it exists and matches `schema`; undefined when missing or unreadable. */
export async function readCheckpoint<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  return readJsonFile(file, schema).catch(() => undefined);
}

/** Replaces the checkpoint at `file` atomically. */
export async function writeCheckpoint(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomically(file, `${JSON.stringify(value)}\n`);
}

/** Deletes the checkpoint; missing is fine. */
export async function removeCheckpoint(file: string): Promise<void> {
  await rm(file, { force: true });
}

/**
 * Serialises checkpoint writes from concurrent part uploads so they land in completion order and
 * never race on the same file.
 */
export class CheckpointWriter {
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  /** Queues a write of `value`; resolves when it (and every earlier write) is on disk. */
  save(value: unknown): Promise<void> {
    const snapshot = JSON.parse(JSON.stringify(value)) as unknown;
    const next = this.last.then(() => writeCheckpoint(this.file, snapshot));
    this.last = next.catch(() => undefined);
    return next;
  }

  /** Waits for queued writes. */
  flush(): Promise<void> {
    return this.last;
  }
}
