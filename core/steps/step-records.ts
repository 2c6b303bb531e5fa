/**
 * STEP RECORDS: what a step produces that grows with the database — a snapshot's artifacts and
 * facts, a validation report, an upload's artifact list, a restore's result — is written to the
 * store, and the state passed to the next step carries only its key (and a few counts). So the
 * state stays a few KB whatever the table count: under Step Functions' 256 KB payload and SSM's
 * 48 KB command line. Where each step keeps its records: core/backup/step-results.ts and
 * core/restore/restore-records.ts.
 */
import { PermanentError } from '../errors';
import { nameSome } from '../name-some';
import { formatIssues } from '../config/issues';
import type { BlobStore } from '../store/blob-store';
import { readJson, writeJson } from '../store/json';

interface Parser<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

/** Writes a step record; returns its key, for the state. */
export async function putStepRecord(store: BlobStore, key: string, value: unknown): Promise<string> {
  await writeJson(store, key, value);
  return key;
}

/**
 * Reads the step record at `key`.
 * @throws PermanentError `STEP_RECORD_MISSING` when it is not in the store (the step that writes
 *   it did not run, or the backup was discarded), `STEP_RECORD_INVALID` when it is not what
 *   `schema` describes.
 */
export async function getStepRecord<T>(store: BlobStore, key: string, schema: Parser<T>, what: string): Promise<T> {
  const value = await readJson(store, key);
  if (value === undefined) {
    throw new PermanentError(`the ${what} is not in the store (${key} is missing)`, { code: 'STEP_RECORD_MISSING' });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError(`the ${what} at ${key} is malformed: ${formatIssues(parsed.error)}`, { code: 'STEP_RECORD_INVALID' });
  }
  return parsed.data;
}

/**
 * The failed checks of a report for an error message: at most `limit` named, then how many more,
 * so a report of thousands of tables still makes a message Step Functions keeps whole.
 */
export function failedChecksText(checks: ReadonlyArray<{ name: string; ok: boolean; detail?: string }>, limit = 10): string {
  const failed = checks.filter((c) => !c.ok);
  return nameSome(failed.map((c) => `${c.name}${c.detail ? ` (${c.detail.slice(0, 300)})` : ''}`), { most: limit, separator: '; ' });
}
