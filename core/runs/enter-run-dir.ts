/**
 * What every host step does first: claim its run directory for its attempt (taking over a dead
 * attempt's, or the one it resumes), then reclaim the leftovers of dead runs on this host. So the
 * leftovers of a killed run go at the next run on that host, wherever its steps run (the CLI in
 * process, a local child process, the agent through SSM), and a live run's directory is never touched.
 */
import type { Logger } from '../logger';
import type { ProcessIdentity } from '../host/process-identity';
import { reclaimLeftovers } from './leftovers';
import { runRecordGone } from '../backup/run-records';
import type { BlobStore } from '../store/blob-store';
import { runHolder } from './run-holder';
import { claimRunDir, type RunDirOwner } from './run-dir';
import { makeSpoolRoot } from './spool-root';

/** The run a step works for, as its state describes it. */
export interface RunDirRequest {
  dir: string;
  kind: RunDirOwner['kind'];
  id: string;
  node?: string;
  engine: string;
  instance: string;
  /** This attempt: its id and when it started. */
  runId: string;
  runStartedAt: string;
  /** The attempt this one resumes (its directory may be taken over). */
  resumes?: string;
}

export interface RunDirDeps {
  spoolRoot: string;
  logger: Logger;
  /** The process orchestrating this attempt, when it is on this host and lives as long as the attempt. */
  orchestrator?: ProcessIdentity;
  /** The store: a dead backup attempt whose backup was discarded from it has nothing to resume (leftovers.ts `backupGone`). */
  store?: BlobStore;
}

/** Claims the run directory (see the module comment) and returns it: the driver's spool directory. */
export async function enterRunDir(request: RunDirRequest, deps: RunDirDeps): Promise<string> {
  const owner: RunDirOwner = {
    formatVersion: 1,
    kind: request.kind,
    id: request.id,
    ...(request.node ? { node: request.node } : {}),
    engine: request.engine,
    instance: request.instance,
    runId: request.runId,
    holder: runHolder({ orchestrator: deps.orchestrator, runStartedAt: request.runStartedAt }),
    updatedAt: new Date().toISOString(),
  };
  await makeSpoolRoot(deps.spoolRoot);
  const previous = await claimRunDir(request.dir, owner, { resumes: request.resumes, orchestrator: deps.orchestrator });
  if (previous) {
    deps.logger.info('took over the run directory of a dead attempt', { dir: request.dir, previousAttempt: previous.runId, attempt: request.runId });
  }
  await reclaimLeftovers(deps.spoolRoot, { logger: deps.logger, ...(deps.store ? { backupGone: runRecordGone(deps.store) } : {}) }).catch(function reportReclaimFailure(error: unknown) {
    deps.logger.warn('could not reclaim the leftovers of dead runs', { spoolRoot: deps.spoolRoot, error: (error as Error).message });
  });
  return request.dir;
}
