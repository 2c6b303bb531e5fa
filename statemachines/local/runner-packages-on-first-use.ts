/**
 * aws-local-stepfunctions loads, as it loads, packages our runs never use (~110 ms of every local
 * run's start): the AWS SDK's Lambda client and credential providers, for Tasks that invoke Lambda
 * functions (ours never do: each Task is mapped to its handler in this process, run-local.ts), and
 * asl-validator, which checks a definition we pass it with `noValidate` (the shipped one, checked
 * when it is built). Imported before the runner, this puts a stand-in in Node's module cache under
 * each package's path that loads the real package when first used, as the CLI's own first-use
 * stand-ins do (core/host/first-use-proxy.ts). Where modules are not Node's (jest's registry),
 * nothing changes.
 */
import Module, { createRequire } from 'node:module';
import { firstUseProxy } from '../../core/host/first-use-proxy';

/** What the runner requires as it loads and uses only to invoke a Lambda function: objects of exports. */
const RUNNER_LAMBDA_PACKAGES = ['@aws-sdk/client-lambda', '@aws-sdk/credential-providers'];

/** What the runner requires as it loads and uses only to validate a definition: a function (the runner copies a module's own keys as it loads, so a proxy would load it). */
const RUNNER_VALIDATOR = 'asl-validator';

function deferUntilUsed(name: string, standInFor: (load: () => unknown) => unknown): void {
  let fromRunner: NodeJS.Require;
  let file: string;
  try {
    fromRunner = createRequire(require.resolve('aws-local-stepfunctions'));
    file = fromRunner.resolve(name);
  } catch {
    return; // not installed here: the runner's own require fails as it would have
  }
  if (require.cache[file]) return;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = standInFor(() => {
    delete require.cache[file]; // the package itself, from now on
    return fromRunner(name);
  });
  require.cache[file] = standIn;
}

for (const name of RUNNER_LAMBDA_PACKAGES) deferUntilUsed(name, (load) => firstUseProxy(load as () => object));
deferUntilUsed(RUNNER_VALIDATOR, (load) => {
  let validator: ((...args: unknown[]) => unknown) | undefined;
  return function validateOnFirstUse(this: unknown, ...args: unknown[]): unknown {
    validator ??= load() as (...args: unknown[]) => unknown;
    return validator.apply(this, args);
  };
});
export {};
