/**
 * What each step function may touch, in one table. Every function reads and writes `state/*`
 * (circuit breakers, agent results); beyond that:
 *
 * | function | backups/* | pool/* | SSM host runner | secrets |
 * |---|---|---|---|---|
 * | backup/prepare | read+write (run.json; discards a dead run's backup; never a manifest, verification or drill record) | – | – | yes (checks the config, discovers nodes from the database) |
 * | backup/snapshot, backup/validate, backup/upload | read | – (the host pools) | yes | – (the agent on the host resolves them) |
 * | backup/cleanup | read+write (discards a failed backup; never a manifest, verification or drill record) | – (a failed backup's pooled objects are left to prune) | yes | – |
 * | backup/finalize | read+write (writes manifest.json, removes objects no artifact list names; deletes no manifest, writes no verification or drill record) | read (heads every pooled artifact) | – | – |
 * | restore/fetch-manifest | read | – | – | – (checks the target config with its secrets unread: the host steps read them) |
 * | restore/prepare, restore/stage, restore/apply, restore/start, restore/validate | read | – (the host downloads) | yes | – (the agent on the host resolves them) |
 * | restore/report | read | – | – | – |
 * | restore/cleanup | read + write verification records (`verification.json`: the damage a failed restore found) only | – | yes | – (idem; it writes the failure record under state/) |
 * | restore/drill-start | read | – | yes (starts the scratch target) | – (plans the restore's nodes on the scratch target, its secrets unread) |
 * | restore/drill-record | read + write drill records (`drill.json` beside a manifest) only | – | yes (tears the scratch target down) | – |
 * | maintenance/prune | read+delete (the instance's expired backups) | list+delete (objects no manifest lists) | – | – |
 *
 * Only backup/prepare connects to databases (to discover a cluster's nodes or a store's shards): it
 * runs in the stack's database network when one is given (database-network.ts).
 *
 * Host steps never run in a function: the SSM host runner refuses a step without a host, and the
 * instances file requires one.
 */
import type { HandlerId } from '../statemachines/handlers';
import type { BackupsAccess, PoolAccess } from './iam-statements';

/** One function's access. */
export interface FunctionAccess {
  /** `backups/*` access. */
  readonly backups: BackupsAccess;
  /** `pool/*` access. */
  readonly pool: PoolAccess;
  /** May run host steps through SSM Run Command. */
  readonly hostRunner: boolean;
  /** May resolve `$secret` references. */
  readonly secrets: boolean;
  /** Connects to the databases' servers (runs in the stack's database network when it has one: database-network.ts). */
  readonly databases?: true;
}

/** The access of every step function. */
export const FUNCTION_ACCESS: Readonly<Record<HandlerId, FunctionAccess>> = {
  'backup/prepare': { backups: 'readWrite', pool: 'none', hostRunner: false, secrets: true, databases: true },
  'backup/snapshot': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'backup/validate': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'backup/upload': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'backup/finalize': { backups: 'readWriteComplete', pool: 'read', hostRunner: false, secrets: false },
  'backup/cleanup': { backups: 'readWrite', pool: 'none', hostRunner: true, secrets: false },
  'restore/fetch-manifest': { backups: 'read', pool: 'none', hostRunner: false, secrets: false },
  'restore/prepare': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'restore/stage': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'restore/apply': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'restore/start': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'restore/validate': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'restore/report': { backups: 'read', pool: 'none', hostRunner: false, secrets: false },
  'restore/cleanup': { backups: 'readVerifications', pool: 'none', hostRunner: true, secrets: false },
  'restore/drill-start': { backups: 'read', pool: 'none', hostRunner: true, secrets: false },
  'restore/drill-record': { backups: 'readDrills', pool: 'none', hostRunner: true, secrets: false },
  'maintenance/prune': { backups: 'readDelete', pool: 'delete', hostRunner: false, secrets: false },
};
