/**
 * What each step function may touch, in one table. Every function reads and writes `state/*`
 * (circuit breakers, agent results); beyond that:
 *
 * | function | backups/* | SSM host runner | secrets |
 * |---|---|---|---|
 * | backup/prepare | read | – | yes (discovers nodes from the database) |
 * | backup/snapshot, backup/validate | read | yes | yes (without a host, node steps run in Lambda) |
 * | backup/upload, backup/cleanup | read+write | yes | yes (idem) |
 * | backup/finalize | read+write (writes manifest.json) | – | – |
 * | restore/fetch-manifest | read | – | yes (checks the target config) |
 * | restore/prepare-target, restore/restore, restore/validate-restore | read | yes | yes (target credentials) |
 * | restore/report | read | – | – |
 * | restore/cleanup | read | yes | yes (idem: it looks at the target and stops what the restore started) |
 */
import type { HandlerId } from '../statemachines/handlers';
import type { BackupsAccess } from './iam-statements';

/** One function's access. */
export interface FunctionAccess {
  /** `backups/*` access. */
  readonly backups: BackupsAccess;
  /** May run host steps through SSM Run Command. */
  readonly hostRunner: boolean;
  /** May resolve `$secret` references. */
  readonly secrets: boolean;
}

/** The access of every step function. */
export const FUNCTION_ACCESS: Readonly<Record<HandlerId, FunctionAccess>> = {
  'backup/prepare': { backups: 'read', hostRunner: false, secrets: true },
  'backup/snapshot': { backups: 'read', hostRunner: true, secrets: true },
  'backup/validate': { backups: 'read', hostRunner: true, secrets: true },
  'backup/upload': { backups: 'readWrite', hostRunner: true, secrets: true },
  'backup/finalize': { backups: 'readWrite', hostRunner: false, secrets: false },
  'backup/cleanup': { backups: 'readWrite', hostRunner: true, secrets: true },
  'restore/fetch-manifest': { backups: 'read', hostRunner: false, secrets: true },
  'restore/prepare-target': { backups: 'read', hostRunner: true, secrets: true },
  'restore/restore': { backups: 'read', hostRunner: true, secrets: true },
  'restore/validate-restore': { backups: 'read', hostRunner: true, secrets: true },
  'restore/report': { backups: 'read', hostRunner: false, secrets: false },
  'restore/cleanup': { backups: 'read', hostRunner: true, secrets: true },
};
