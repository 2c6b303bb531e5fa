/**
 * What a built-in driver brings to the driver contract suite (driver-contract.ts): a way to start a
 * source with seeded data and to make scratch restore targets, on this machine, with real servers.
 * The suite runs the same cases for every kit. A driver's kits live in its folder, `kit.ts`,
 * exporting `kits` (MySQL has two: logical and physical); they are test code, loaded only here.
 */

/** A JSON object: a config or a restore target, as the console would send it. */
export type KitJson = Record<string, unknown>;

/** A source server with seeded data, started by a kit. */
export interface KitSource {
  /** The backup config that reaches it. */
  config: KitJson;
  /** Environment the runtime resolves the configs' `env:` secret references from. */
  env: Record<string, string>;
  /** Changes its data, so what a backup recorded differs from what the source holds afterwards. */
  change(): Promise<void>;
  /** Its data, read without the driver: the independent proof that a restore equals the source. */
  read(): Promise<unknown>;
  /** A config that reaches no server (nothing listens where it points). */
  unreachable(): Promise<KitJson>;
  /**
   * A config that reaches a server which refuses its credentials; absent when the kit's backups
   * use none (ZooKeeper's host-local backup reads files on the member's host).
   */
  wrongCredentials?(): Promise<KitJson>;
  /** A config with one invalid field, and that field's name as the error must give it. */
  invalid(): { config: KitJson; field: string };
  /** Stops what the kit started for it. */
  stop(): Promise<void>;
}

/** A scratch restore target made by a kit: empty, on this host. */
export interface KitTarget {
  /** The restore target. */
  target: KitJson;
  /**
   * The target for a forced restore over an earlier restore into it: what the operator adds to
   * replace it (e.g. let the restore stop the server the earlier one started).
   */
  forced: KitJson;
  /** Its data after a restore, read as {@link KitSource.read} reads the source. */
  read(): Promise<unknown>;
  /** Stops whatever runs on it (the kit's, or what a restore started). */
  stop(): Promise<void>;
}

/** One way to run a driver through the contract suite (MySQL: logical, physical). */
export interface DriverKit {
  /** Shown in the suite's test names, e.g. `mysql physical`. */
  name: string;
  /** False when the kit's backups use no credentials: the wrong-credentials case does not apply (see {@link KitSource.wrongCredentials}). */
  credentials?: boolean;
  /** The engine the kit's backups are of. */
  engine: string;
  /** Starts a source with seeded data. */
  startSource(): Promise<KitSource>;
  /** Makes an empty scratch restore target. */
  scratchTarget(): Promise<KitTarget>;
  /** What a drill sets on the driver's scratch target (`dbbackup drill --target-settings`): credentials its validation needs. */
  drillSettings?: KitJson;
}
