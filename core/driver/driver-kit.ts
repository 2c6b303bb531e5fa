/**
 * What a built-in driver brings to the driver contract suite: the suite runs the same cases for
 * every kit (backup → restore → validate, crashes and retries, damaged artifacts, refused targets),
 * through the locally run state machines and real servers. A kit is test code, loaded only by the
 * tests (see {@link BuiltinDriver.kits}).
 *
 * The shape is the minimum the suite needs to start; the suite grows it as its cases need.
 */

/** A source server with seeded data, started by a kit. */
export interface KitSource {
  /** The backup config that reaches it (the driver's config schema). */
  config: Record<string, unknown>;
  /** Changes its data, so a later backup differs from an earlier one. */
  change(): Promise<void>;
  /** Its data, read without the driver: the independent proof that a restore equals the source. */
  read(): Promise<unknown>;
  /** Stops what the kit started for it. */
  stop(): Promise<void>;
}

/** A scratch restore target made by a kit: empty, on this host. */
export interface KitTarget {
  /** The restore target (the driver's restore-target schema). */
  target: Record<string, unknown>;
  /** Its data after a restore, read as {@link KitSource.read} reads the source. */
  read(): Promise<unknown>;
  /** Stops whatever runs on it (the kit's, or what a restore started). */
  stop(): Promise<void>;
}

/** One way to run a driver through the contract suite (MySQL: logical, physical). */
export interface DriverKit {
  /** Shown in the suite's test names, e.g. `mysql physical`. */
  name: string;
  /** Starts a source with seeded data under `workDir`. */
  startSource(workDir: string): Promise<KitSource>;
  /** Makes an empty scratch restore target under `workDir`. */
  scratchTarget(workDir: string): Promise<KitTarget>;
}
