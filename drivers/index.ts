/**
 * The built-in drivers: the one list of the engines that ship with dbbackup (as restic's
 * internal/backend/all lists its backends). Everything that needs "every built-in driver" derives
 * it from here — the registry (bin/, functions/), `npm start`'s demo, the packages the test
 * harness installs, the packages the Lambda bundles leave out (infra/), the README's driver table —
 * and core/ never imports it: the entry points pass it in.
 *
 * Adding a built-in driver: its folder `drivers/<engine>/` with a `builtin.ts`, and one import and
 * one entry here (see the README's checklist).
 */
import type { BuiltinDriver } from '../core/driver/builtin-driver';
import { pluginsOf } from '../core/driver/builtin-driver';
import type { DriverPlugin } from '../core/driver/types';
import { builtin as cassandra } from './cassandra/builtin';
import { builtin as docstore } from './docstore/builtin';
import { builtin as etcd } from './etcd/builtin';
import { builtin as mysql } from './mysql/builtin';
import { builtin as schemaless } from './schemaless/builtin';
import { builtin as zookeeper } from './zookeeper/builtin';

/** Every built-in driver, in the order the demo runs them and the README lists them. */
export const BUILTIN_DRIVERS: readonly BuiltinDriver[] = [etcd, mysql, zookeeper, cassandra, schemaless, docstore];

/**
 * The built-in driver plugins.
 *
 * @example
 * ```ts
 * const engines = builtinPlugins().map((p) => p.manifest.name); // ['etcd', 'mysql', 'zookeeper', 'cassandra', 'schemaless', 'docstore']
 * ```
 */
export function builtinPlugins(): DriverPlugin[] {
  return pluginsOf(BUILTIN_DRIVERS);
}
