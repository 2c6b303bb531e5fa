/**
 * The usual starting point of a MySQL integration test: a source MariaDB seeded with the shop, an
 * admin connection to it, a test runtime (state machines, local store) and a scratch directory.
 */
import { rm } from 'node:fs/promises';
import type { Connection } from 'mysql2/promise';
import { seedShop, startTestMariaDb, stopAllMariaDb, type TestMariaDb } from './mariadb';
import { createTestRuntime, type TestRuntime } from './runtime';
import { tempDir } from './test-run';

export interface ShopSource {
  source: TestMariaDb;
  admin: Connection;
  rt: TestRuntime;
  scratch: string;
}

/** Starts the source (labelled `label`, `big` holding `bigRows` rows), the runtime and the scratch dir. */
export async function startShopSource(label: string, bigRows: number): Promise<ShopSource> {
  const source = await startTestMariaDb(label);
  const admin = await source.connect();
  await seedShop(admin, { bigRows });
  const rt = await createTestRuntime();
  const scratch = await tempDir(label);
  return { source, admin, rt, scratch };
}

/** Stops every server the harness started and removes the runtime and scratch dir (whatever was started). */
export async function stopShopSource(started: Partial<ShopSource>): Promise<void> {
  await started.admin?.end();
  await stopAllMariaDb();
  await started.rt?.dispose();
  if (started.scratch) await rm(started.scratch, { recursive: true, force: true });
}
