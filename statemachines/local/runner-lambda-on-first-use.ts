/**
 * aws-local-stepfunctions loads the AWS SDK's Lambda client and credential providers as it loads
 * (~50 ms of every local run's start), for Tasks that invoke Lambda functions, which our runs never
 * do: each Task is mapped to its handler in this process (run-local.ts). Imported before the runner,
 * this puts a stand-in in Node's module cache under each package's path that loads the real package
 * when one of its exports is first read, as the CLI's own first-use stand-ins do
 * (core/host/first-use-proxy.ts); the runner reads them only when it invokes a function. Where modules are
 * not Node's (jest's registry), nothing changes.
 */
import Module, { createRequire } from 'node:module';
import { firstUseProxy } from '../../core/host/first-use-proxy';

/** What the runner requires as it loads and uses only to invoke a Lambda function. */
const RUNNER_LAMBDA_PACKAGES = ['@aws-sdk/client-lambda', '@aws-sdk/credential-providers'];

function deferUntilUsed(name: string): void {
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
  standIn.exports = firstUseProxy(() => {
    delete require.cache[file]; // the package itself, from now on
    return fromRunner(name) as object;
  });
  require.cache[file] = standIn;
}

for (const name of RUNNER_LAMBDA_PACKAGES) deferUntilUsed(name);
export {};
