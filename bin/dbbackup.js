#!/usr/bin/env node
// Entry point of `dbbackup`: runs the built CLI (dist/cli.js, made by `npm run build`), its stack
// traces mapped back to the TypeScript sources.
process.setSourceMapsEnabled(true);
let cli;
try {
  cli = require('../dist/cli.js');
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli.js')) throw error;
  process.stderr.write('dbbackup: this copy is not built (no dist/cli.js): run `npm run build` in it\n');
  process.exit(2);
}
cli.main(process.argv);
