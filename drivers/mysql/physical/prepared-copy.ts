/**
 * A stored physical backup made ready for a server to start on: its xbstream read back, extracted
 * by the tool's extractor (`mbstream -x` / `xbstream -x`) into a fresh directory, its bytes proven
 * to be the artifact's (size and sha256, computed on the way), then `--prepare`d (crash recovery
 * applied). The snapshot's prepare check digests such a copy; the physical restore moves one into
 * the data dir. Both must get exactly the same guarantees, so the sequence lives here once.
 *
 * A failure anywhere removes the directory: a half-extracted, unverified or unprepared copy is
 * never left for a caller (or its retry) to take for a prepared one.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { verifiedRead } from '../../../core/driver/artifact-check';
import type { ArtifactRef } from '../../../core/driver/types';
import { runTool } from '../../../core/host/run-tool';
import { extractArgv, prepareArgv, type BackupTool } from './backup-tool';
import { MYSQL_TOOLS } from '../shared/tool-errors';

export interface PreparedCopyOptions {
  tool: BackupTool;
  /** The artifact read: its recorded size and sha256 are what the bytes must be. */
  artifact: ArtifactRef;
  /** Opens the artifact's bytes (from the store or the spool), once the directory is ready. */
  open: () => Promise<Readable>;
  /** Where the copy goes; whatever is there is replaced. */
  dir: string;
  /** The extractor's threads. */
  parallel: number;
  /** Why the copy is made, for the tools' error messages: e.g. `restoring into /var/lib/mysql`. */
  purpose: string;
  signal?: AbortSignal;
}

/** How long each stage of {@link makePreparedCopy} took. */
export interface PreparedCopyTimes {
  extractMs: number;
  prepareMs: number;
}

/**
 * Extracts, verifies and prepares the artifact in `options.dir` (see the module comment).
 * @throws PermanentError `CHECKSUM_MISMATCH` when the bytes read are not the artifact's; the
 *   tools' errors as `toolExitError` makes them (`SNAPSHOT_CORRUPT` for a stream the extractor
 *   refuses, `MISSING_TOOL`, `ABORTED`, `MYSQL_TOOL_FAILED`...); the source's own errors.
 */
export async function makePreparedCopy(options: PreparedCopyOptions): Promise<PreparedCopyTimes> {
  const { tool, dir, signal } = options;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    let started = Date.now();
    await runTool(tool.extractCommand, extractArgv(tool, dir, options.parallel), {
      errors: MYSQL_TOOLS,
      what: `${tool.extractCommand} -x (${options.purpose})`,
      stdin: verifiedRead(await options.open(), options.artifact), // a mismatch fails the input, so the run
      signal,
    });
    const extractMs = Date.now() - started;

    started = Date.now();
    await runTool(tool.command, prepareArgv(tool, dir), { errors: MYSQL_TOOLS, what: `${tool.command} --prepare (${options.purpose})`, signal });
    return { extractMs, prepareMs: Date.now() - started };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
