/**
 * A built-in driver as the entry points see it: the plugin and everything around it that the
 * rest of the project derives from one list (the drivers folder's `index.ts`) — the registry, `npm start`'s demo,
 * the packages the test harness installs, the packages the Lambda bundles leave out, and the
 * README's driver table. Core defines the shape and never imports the list: the entry points
 * (bin/, functions/, infra/, the test harness) pass it in.
 */
import type { DemoScenario } from '../demo/scenario';
import type { HostRequirement } from '../host/host-requirements';
import type { DriverPlugin } from './types';

/** The driver's row in the README's driver table (scripts/readme-drivers.ts renders it). */
export interface DriverDocs {
  /** Engines and versions, e.g. `etcd 3.4, 3.5+`. */
  versions: string;
  snapshot: string;
  restore: string;
  validation: string;
}

export interface BuiltinDriver {
  /** The plugin the registry holds. */
  plugin: DriverPlugin;
  /** `npm start`'s scenario: a throwaway source with sample data on this machine. */
  demo: DemoScenario;
  /** Commands and packages this engine needs on a host, and who needs them (demo, tests). */
  host: readonly HostRequirement[];
  /**
   * Client packages the Lambda bundles (and the host agent bundle) must not inline — e.g. one that
   * reads files next to its own code at load time — shipped beside them instead
   * (infra/runtime-dependencies.ts).
   */
  unbundled: readonly string[];
  /**
   * Client packages only host steps load (a native addon, built for the host's Node): kept out of
   * the Lambda bundles entirely — neither inlined nor copied, a function never loads them — and
   * shipped in the host agent bundle like the unbundled ones.
   */
  hostOnly: readonly string[];
  /** Its row in the README's driver table. */
  docs: DriverDocs;
}

/** The plugins of `drivers`, in their order. */
export function pluginsOf(drivers: readonly BuiltinDriver[]): DriverPlugin[] {
  return drivers.map((driver) => driver.plugin);
}
