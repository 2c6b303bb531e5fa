/**
 * The Lambda handlers the state machines chain, named by `<dir>/<file>` under `functions/`, and the
 * maintenance handlers schedules start directly (the prune of each instance).
 *
 * Every Task state's `Comment` is `handler:<dir>/<file>` ({@link handlerComment}); the local runner
 * reads it back ({@link handlerFromComment}) to map a Task to the handler it runs in process, and
 * the stack bundles `functions/<dir>/<file>.ts` ({@link handlerEntry}) for the same Task in AWS.
 */
import path from 'node:path';

/** Backup handlers, in the order a backup runs them. */
export const BACKUP_HANDLERS = ['prepare', 'snapshot', 'validate', 'upload', 'finalize', 'cleanup'] as const;

/** Restore handlers, in the order a restore runs them (cleanup only after a failure; drill-start and drill-record only in a drill). */
export const RESTORE_HANDLERS = ['fetch-manifest', 'drill-start', 'prepare', 'stage', 'apply', 'start', 'validate', 'report', 'cleanup', 'drill-record'] as const;

/** Handlers no state machine runs: EventBridge rules start them (infra/prune-schedules.ts). */
export const MAINTENANCE_HANDLERS = ['prune'] as const;

/** A backup handler file name, e.g. `snapshot`. */
export type BackupHandler = (typeof BACKUP_HANDLERS)[number];

/** A restore handler file name, e.g. `prepare`. */
export type RestoreHandler = (typeof RESTORE_HANDLERS)[number];

/** A maintenance handler file name, e.g. `prune`. */
export type MaintenanceHandler = (typeof MAINTENANCE_HANDLERS)[number];

/** A handler id: `backup/<file>`, `restore/<file>` or `maintenance/<file>`. */
export type HandlerId = `backup/${BackupHandler}` | `restore/${RestoreHandler}` | `maintenance/${MaintenanceHandler}`;

/** Every handler id, backup first. */
export const HANDLER_IDS: readonly HandlerId[] = [
  ...BACKUP_HANDLERS.map((name) => `backup/${name}` as const),
  ...RESTORE_HANDLERS.map((name) => `restore/${name}` as const),
  ...MAINTENANCE_HANDLERS.map((name) => `maintenance/${name}` as const),
];

/** Prefix of a Task's `Comment` that names its handler. */
export const HANDLER_COMMENT_PREFIX = 'handler:';

/** The `Comment` of a Task that runs `id`, e.g. `handler:backup/snapshot`. */
export function handlerComment(id: HandlerId): string {
  return `${HANDLER_COMMENT_PREFIX}${id}`;
}

/** The handler id a Task's `Comment` names, or undefined when the comment names none we know. */
export function handlerFromComment(comment: string | undefined): HandlerId | undefined {
  if (!comment?.startsWith(HANDLER_COMMENT_PREFIX)) return undefined;
  const id = comment.slice(HANDLER_COMMENT_PREFIX.length);
  return (HANDLER_IDS as readonly string[]).includes(id) ? (id as HandlerId) : undefined;
}

/** The entry file of a handler: `<projectRoot>/functions/<dir>/<file>.ts`. */
export function handlerEntry(id: HandlerId, projectRoot: string): string {
  return path.join(projectRoot, 'functions', `${id}.ts`);
}
