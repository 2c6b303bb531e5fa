/**
 * Run directories: the host-local directory of one backup node or one restore — the driver's spool
 * (a snapshot's artifacts, a restore's downloads, scratch copies) — and, beside it, its owner record
 * (the run, its attempt, and the {@link RunHolder} that tells whether that attempt is alive). Every
 * host step claims its run directory before it touches it; the leftovers of dead runs are reclaimed
 * (leftovers.ts) and a live run's directory is never touched.
 *
 *     <dir>/              the driver's spool (drivers may wipe it: the record is not inside)
 *     <dir>.owner.json    who owns it (written atomically)
 *
 * The record sits beside the directory, not in it, so the paths drivers get are no longer than
 * the directory's own (a server's Unix socket next to a scratch copy must fit in 107 bytes).
 *
 * Ownership changes hands without a lock, by two atomic file operations:
 * - the record is only ever created with link(2), which fails when it exists: of two processes
 *   creating it, one wins;
 * - a dead owner's record is taken away with rename(2), which only one process can do to a given
 *   file; the taker then checks it took the very record it judged dead (else it puts it back).
 * The attempt that owns a directory rewrites its own record in place (temporary file + rename).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TransientError } from '../errors';
import { isRunning, type ProcessIdentity } from '../host/process-identity';
import { writeFileAtomically } from '../io/json-file';
import { judgeHolder, runHolderSchema, type HolderVerdict } from './run-holder';

/** What the owner record's file name adds to its directory's. */
export const OWNER_SUFFIX = '.owner.json';

export const runDirOwnerSchema = z.object({
  formatVersion: z.literal(1),
  kind: z.enum(['backup', 'restore', 'drill']),
  /** The backup id or restore id. */
  id: z.string().min(1),
  node: z.string().optional(),
  engine: z.string(),
  instance: z.string(),
  /** The attempt (one execution) that owns it; the steps of one attempt hand it on to each other. */
  runId: z.string().min(1),
  holder: runHolderSchema,
  /** Set once a backup node's snapshot completed here: a dead attempt's directory is kept until then, for a resume. */
  resumableUntil: z.iso.datetime().optional(),
  updatedAt: z.iso.datetime(),
});

/** What an owner record holds. */
export type RunDirOwner = z.infer<typeof runDirOwnerSchema>;

/** An owner record as read: its exact text (to check a take-over took this one) and its content. */
export interface OwnerOnDisk {
  text: string;
  /** Undefined when the file is not a valid record. */
  owner?: RunDirOwner;
}

/** What {@link dataKeyFileOf} adds to a run directory's path. */
export const DATA_KEY_SUFFIX = '.data-key.json';

/**
 * Where a backup node's run keeps its data key (core/crypto/encoding-settings.ts): beside its run
 * directory, so a driver clearing its spool does not take it; removed with the directory.
 */
export function dataKeyFileOf(dir: string): string {
  return `${path.resolve(dir)}${DATA_KEY_SUFFIX}`;
}

/** The owner record's file of run directory `dir`. */
export function ownerFileOf(dir: string): string {
  return `${path.resolve(dir)}${OWNER_SUFFIX}`;
}

/** `dir`'s owner record, or undefined when there is none. */
export async function readOwner(dir: string): Promise<OwnerOnDisk | undefined> {
  let text: string;
  try {
    text = await readFile(ownerFileOf(dir), 'utf8');
  } catch {
    return undefined;
  }
  let owner: RunDirOwner | undefined;
  try {
    const parsed = runDirOwnerSchema.safeParse(JSON.parse(text));
    owner = parsed.success ? parsed.data : undefined;
  } catch {
    owner = undefined;
  }
  return { text, owner };
}

/** A unique name next to `file`, for temporary and set-aside copies. */
function besides(file: string, label: string): string {
  return `${file}.${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Creates `dir`'s owner record unless it exists (link(2) is exclusive); true when this call created it. */
export async function createOwner(dir: string, owner: RunDirOwner): Promise<boolean> {
  const file = ownerFileOf(dir);
  const temp = besides(file, 'new');
  await writeFile(temp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Rewrites the record of a directory this attempt owns (atomic: temporary file + rename). */
export async function replaceOwner(dir: string, owner: RunDirOwner): Promise<void> {
  await writeFileAtomically(ownerFileOf(dir), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
}

/**
 * Takes `dir`'s owner record away, provided it is still the one read as `expected`: true when it
 * did (the directory then has no owner, and this caller decides what becomes of it). False when
 * another process took it first or the record changed meanwhile (then it is put back).
 */
export async function takeOver(dir: string, expected: OwnerOnDisk): Promise<boolean> {
  const file = ownerFileOf(dir);
  const aside = besides(file, 'taken');
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const taken = await readFile(aside, 'utf8').catch(() => undefined);
  if (taken !== expected.text) {
    await link(aside, file).catch(() => undefined); // a newer owner's record: back it goes (unless yet another exists)
    await rm(aside, { force: true });
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

export interface ClaimOptions {
  /** The attempt this one resumes: its directory is taken over, provided none of its processes runs here. */
  resumes?: string;
  /** This attempt's orchestrator (never counted as a duplicate of its own steps). */
  orchestrator?: ProcessIdentity;
  now?: Date;
}

const CLAIM_ATTEMPTS = 5;

/**
 * Makes `owner` the owner of `dir` (created, private, when missing; its record first, so no other
 * process ever sees the new directory without one) and returns the record it
 * replaced when it took over another attempt's directory. Another step of the same attempt hands
 * over silently; a dead attempt's directory is taken over (adopted: its content stays).
 * @throws TransientError `RUN_DIR_BUSY` when a live attempt (or a still-running earlier step of
 *   this one) owns it.
 */
export async function claimRunDir(dir: string, owner: RunDirOwner, options: ClaimOptions = {}): Promise<RunDirOwner | undefined> {
  await mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
  const claimed = await claimRecord(dir, owner, options);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return claimed;
}

async function claimRecord(dir: string, owner: RunDirOwner, options: ClaimOptions): Promise<RunDirOwner | undefined> {
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt += 1) {
    const current = await readOwner(dir);
    if (!current) {
      if (await createOwner(dir, owner)) return undefined;
      continue;
    }
    const previous = current.owner;
    if (previous && previous.runId === owner.runId) {
      const duplicate = previous.holder.processes.find((p) => p.pid !== process.pid && p.pid !== options.orchestrator?.pid && isRunning(p));
      if (duplicate) throw busy(dir, previous, { state: 'live', reason: `an earlier step of this run (process ${duplicate.pid}) is still at work on it` });
      await replaceOwner(dir, { ...owner, resumableUntil: owner.resumableUntil ?? previous.resumableUntil });
      return undefined;
    }
    const verdict = previous ? judgeHolder(previous.holder, options.now) : { state: 'dead' as const, reason: 'its owner record is unreadable' };
    const resumed = previous !== undefined && previous.runId === options.resumes
      && !previous.holder.processes.some((p) => p.pid !== process.pid && isRunning(p));
    if (verdict.state !== 'dead' && !resumed) throw busy(dir, previous, verdict);
    if (await takeOver(dir, current) && await createOwner(dir, owner)) return previous;
  }
  throw new TransientError(`could not claim ${dir}: its owner changed ${CLAIM_ATTEMPTS} times while claiming it`, { code: 'RUN_DIR_BUSY' });
}

function busy(dir: string, owner: RunDirOwner | undefined, verdict: HolderVerdict): TransientError {
  const what = owner ? `${owner.kind} ${owner.id}${owner.node ? ` (node ${owner.node})` : ''}, attempt ${owner.runId}` : 'another run';
  return new TransientError(`${dir} belongs to ${what}, which is alive: ${verdict.reason}`, { code: 'RUN_DIR_BUSY' });
}

/** Records, in the directory this attempt owns, until when its completed snapshot is kept for a resume. */
export async function markResumable(dir: string, runId: string, until: Date): Promise<void> {
  const current = (await readOwner(dir))?.owner;
  if (current?.runId !== runId) return;
  await replaceOwner(dir, { ...current, resumableUntil: until.toISOString(), updatedAt: new Date().toISOString() });
}

/**
 * Removes `dir` and its record when this attempt owns it, it has no owner, or its owner is dead;
 * leaves it (and says why) when a live attempt owns it. Missing is fine.
 */
export async function releaseRunDir(dir: string, runId: string, now?: Date): Promise<{ removed: boolean; reason?: string }> {
  const current = await readOwner(dir);
  const previous = current?.owner;
  if (previous && previous.runId !== runId) {
    const verdict = judgeHolder(previous.holder, now);
    if (verdict.state !== 'dead') return { removed: false, reason: `owned by attempt ${previous.runId}: ${verdict.reason}` };
  }
  await rm(dir, { recursive: true, force: true });
  await rm(dataKeyFileOf(dir), { force: true });
  await rm(ownerFileOf(dir), { force: true }); // last: a crash in between leaves a record, never an unowned directory
  await rmdir(path.dirname(dir)).catch(() => undefined); // the backup's (or restore's) directory, once its last node's is gone
  return { removed: true };
}
