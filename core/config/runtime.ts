/**
 * Wires the pieces for one process (CLI, host agent, Lambda, tests): the store, the driver
 * registry with the built-in drivers the caller passes (the project's one list of them) and the external plugins,
 * secret resolution and the durable circuit breakers.
 * Whole backups and restores are run by the state machines (statemachines/local for one machine).
 */
import type { BlobStore } from '../store/blob-store';
import { kmsOptionsFromEnv, openStore, s3OptionsFromEnv } from '../store/open-store';
import { createRegistry } from '../driver/create-registry';
import { pluginOptionsFromEnv } from '../driver/plugin-loader';
import type { DriverRegistry } from '../driver/registry';
import type { DriverPlugin } from '../driver/types';
import { circuitGuard } from '../resilience/circuit-guard';
import { blobStoreState } from '../resilience/durable-state';
import { STATE_ROOT } from '../catalog/layout';
import { awsRegionFromEnv } from '../aws/region';
import { KMSClient } from '@aws-sdk/client-kms';
import { createSecretResolver, resolveSecrets, standInResolver } from '../secrets';
import { Catalog } from '../catalog/catalog';
import type { Logger } from '../logger';
import type { StepDeps } from '../steps/step-deps';
import { CIRCUIT_RESET_ENV, type Settings } from './settings';
import { secretSchemesOn } from './platform';
import { ResolvedSecrets } from './resolved-secrets';

export interface Runtime {
  store: BlobStore;
  registry: DriverRegistry;
  catalog: Catalog;
  deps: StepDeps;
}

/** Consecutive transient failures of one endpoint before its circuit opens, and how long it stays open. */
const BREAKER = { failureThreshold: 5, halfOpenAfterMs: 60_000 };

/** What an open circuit's error tells the user to do to try sooner. */
function breakerOverride(storeUrl: string): (stateKey: string) => string {
  return (stateKey) => `run with ${CIRCUIT_RESET_ENV}=reset (or delete ${STATE_ROOT}/${stateKey}.json from ${storeUrl})`;
}

/** What the entry point brings besides its settings. */
export interface RuntimeOptions {
  /** The built-in driver plugins: the entry point's `builtinPlugins()`, from the drivers folder's index. */
  builtins: readonly DriverPlugin[];
  onProgress?: StepDeps['onProgress'];
}

export async function createRuntime(settings: Settings, logger: Logger, options: RuntimeOptions): Promise<Runtime> {
  const { onProgress } = options;
  const store = openStore(settings.storeUrl, s3OptionsFromEnv(settings.env));
  const registry = await createRegistry(options.builtins, pluginOptionsFromEnv(settings.env));
  // What this process resolves is masked in every log line and error it writes (the breakers' records included).
  const secrets = new ResolvedSecrets();
  const masking = secrets.maskingLogger(logger);
  const guard = secrets.maskingGuard(circuitGuard({
    state: blobStoreState(store), logger: masking, ...BREAKER, resetFirst: settings.circuitBreaker === 'reset', override: breakerOverride(store.url),
  }));
  // The caller says where this process runs (platform.ts decides, by its role); unsaid: local.
  const region = awsRegionFromEnv(settings.env);
  const schemes = secretSchemesOn(settings.platform ?? 'local');
  const secretResolver = secrets.remembering(createSecretResolver({ env: settings.env, schemes, ssm: { region }, secretsManager: { region } }));
  const standIn = standInResolver(schemes);
  const deps: StepDeps = {
    registry,
    store,
    logger: masking,
    spoolRoot: settings.spoolRoot,
    restoreRoots: settings.restoreRoots ?? [],
    restoreServers: settings.restoreServers ?? [],
    ...(settings.platform === 'aws' ? { confineRestores: true } : {}),
    ...(settings.orchestrator ? { orchestrator: settings.orchestrator } : {}),
    resolveSecrets: (value) => resolveSecrets(value, secretResolver),
    standInSecrets: (value) => resolveSecrets(value, standIn),
    kms: onFirstUse(() => new KMSClient(kmsOptionsFromEnv(settings.env))),
    maskSecrets: (text) => secrets.mask(text),
    guard,
    onProgress,
  };
  return {
    store,
    registry,
    catalog: new Catalog(store),
    deps,
  };
}

/** `make`'s value, made on the first call. */
function onFirstUse<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
