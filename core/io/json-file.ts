/**
 * Small files a process keeps for the next one (checkpoints, records, keys): written whole or not at
 * all, and read back as the schema says or refused naming the file.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { z } from 'zod';
import { formatIssues } from '../config/issues';
import { PermanentError } from '../errors';
import { readTextIfExists } from '../host/read-if-exists';

/** What {@link temporaryFileOf} adds to a name: what a crashed write leaves beside the file. */
export const TEMPORARY_SUFFIX = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/** A new temporary name beside `file` (its writer's pid, random): where {@link writeFileAtomically} writes before the rename. */
export function temporaryFileOf(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Writes `content` to `file` via a temporary file and rename: readers in other processes never see half of it. */
export async function writeFileAtomically(file: string, content: string, options: { mode?: number } = {}): Promise<void> {
  const temp = temporaryFileOf(file);
  try {
    await writeFile(temp, content, options.mode === undefined ? {} : { mode: options.mode });
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The JSON file `file` as `schema` reads it, or undefined when there is no such file.
 * @throws PermanentError `STATE_CORRUPT` naming the file and what to do (`remedy`) when it is not JSON or not what `schema` expects
 */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>, remedy = 'remove it to start over'): Promise<T | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PermanentError(`${file} is not valid JSON (a damaged file: ${remedy})`, { code: 'STATE_CORRUPT' });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new PermanentError(`${file} does not hold what it should (a damaged file: ${remedy}): ${formatIssues(parsed.error)}`, { code: 'STATE_CORRUPT' });
  return parsed.data;
}
