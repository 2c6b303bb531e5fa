#!/usr/bin/env node
// Entry point of `dbbackup`: runs the built CLI (dist/cli.js, made by `npm run build`), its stack
// traces mapped back to the TypeScript sources.
process.setSourceMapsEnabled(true);
// Node 22.1+: V8's compiled code for the bundle and its packages kept on disk between runs (~20–40 ms of each start); Node 20 has none.
require('node:module').enableCompileCache?.();
// The AWS SDK prints eight lines on stderr, in every command that reaches AWS on Node 20, that its
// releases from 2027 need Node 22: the README says so once (Requirements) instead. Set it to
// 'false' to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
let cli;
try {
  cli = require('../dist/cli.js');
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli.js')) throw error;
  process.stderr.write('dbbackup: this copy is not built (no dist/cli.js): run `npm run build` in it\n');
  process.exit(2);
}
cli.main(process.argv);
