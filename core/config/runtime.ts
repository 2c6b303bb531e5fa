/**
 * Wires the pieces for one process (CLI, host agent, Lambda, tests): the store, the driver
 * registry with built-in and external plugins, secret resolution and the durable circuit breakers.
 * Whole backups and restores are run by the state machines (statemachines/local for one machine).
 */
import type { BlobStore } from '../store/blob-store';
import { openStore, s3OptionsFromEnv } from '../store/open-store';
import { createRegistry } from '../driver/builtin';
import { pluginOptionsFromEnv } from '../driver/plugin-loader';
import type { DriverRegistry } from '../driver/registry';
import { blobStoreState, PersistentCircuitBreaker } from '../resilience/circuit-breaker';
import { createSecretResolver, resolveSecrets } from '../secrets';
import { Catalog } from '../catalog/catalog';
import type { Logger } from '../logger';
import type { StepDeps } from '../steps/step-deps';
import type { Settings } from './settings';

export interface Runtime {
  store: BlobStore;
  registry: DriverRegistry;
  catalog: Catalog;
  deps: StepDeps;
}

/** Consecutive transient failures of one target before its circuit opens, and how long it stays open. */
const BREAKER = { failureThreshold: 5, halfOpenAfterMs: 60_000 };

export async function createRuntime(
  settings: Settings,
  logger: Logger,
  onProgress?: StepDeps['onProgress'],
): Promise<Runtime> {
  const store = openStore(settings.storeUrl, s3OptionsFromEnv(settings.env));
  const registry = await createRegistry(pluginOptionsFromEnv(settings.env));
  const breakerState = blobStoreState(store);
  const secretResolver = createSecretResolver({ env: settings.env });
  const deps: StepDeps = {
    registry,
    store,
    logger,
    spoolRoot: settings.spoolRoot,
    ...(settings.orchestrator ? { orchestrator: settings.orchestrator } : {}),
    resolveSecrets: (value) => resolveSecrets(value, secretResolver),
    guard: (target, fn) => new PersistentCircuitBreaker({ target, state: breakerState, logger, ...BREAKER }).execute(fn),
    onProgress,
  };
  return {
    store,
    registry,
    catalog: new Catalog(store),
    deps,
  };
}
