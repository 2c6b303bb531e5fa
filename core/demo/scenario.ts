/**
 * A demo scenario: a throwaway source server with sample data, for one engine. `npm start` runs
 * every built-in driver's scenario: backup, then a restore drill of it (a scratch target from the
 * driver's scratch.ts: restore → validate → teardown), after installing what the driver says its
 * demo needs on this host. Each built-in driver brings one (its `demo.ts`).
 */
import type { Logger } from '../logger';

export interface DemoRun {
  instance: string;
  /** Backup request config for the source server. */
  config: Record<string, unknown>;
  /** What was written, e.g. "1000 keys". */
  seeded: string;
  /** Stops every server the scenario started. */
  stop(): Promise<void>;
}

export interface DemoScenario {
  engine: string;
  /** Starts the source with sample data under `workDir`. */
  start(workDir: string, logger: Logger): Promise<DemoRun>;
}
