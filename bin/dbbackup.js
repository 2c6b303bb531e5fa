#!/usr/bin/env node
// Entry point for `dbbackup`: runs the TypeScript CLI through tsx's CommonJS loader.
require('tsx/cjs');
require('./cli.ts').main(process.argv);
