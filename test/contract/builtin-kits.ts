/**
 * The kits of every built-in driver: each driver of drivers/index.ts brings its kits in
 * `drivers/<engine>/kit.ts` (test code, loaded only by the contract suite).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_DRIVERS } from '../../drivers';
import type { DriverKit } from './driver-kit';

const DRIVERS_DIR = path.resolve(__dirname, '../../drivers');

/** The engines of the built-in drivers. */
export const BUILTIN_ENGINES = BUILTIN_DRIVERS.map((driver) => driver.plugin.manifest.name);

/** The kits a driver's folder exports (none when it has no kit.ts). */
function kitsOf(engine: string): readonly DriverKit[] {
  const file = path.join(DRIVERS_DIR, engine, 'kit.ts');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- describe.each needs the kits while collecting
  return existsSync(file) ? (require(file) as { kits: readonly DriverKit[] }).kits : [];
}

export const BUILTIN_KITS: readonly DriverKit[] = BUILTIN_ENGINES.flatMap((engine) => kitsOf(engine));
