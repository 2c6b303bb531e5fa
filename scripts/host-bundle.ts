/**
 * The agent bundle for database hosts: everything `dbbackup` needs but Node.js, in the layout of
 * the npm package (core/host/package-root.ts), packed as a reproducible `.tgz` — what the stack
 * publishes as an asset and its install document puts on every managed host.
 *
 *     bin/dbbackup.js   the launcher (#!/usr/bin/env node)
 *     dist/cli.js       the CLI with its packages inlined (scripts/cli-bundle.ts, `standalone`)
 *     node_modules/     only what cannot be inlined (etcd3 and its dependencies)
 *     package.json      name, version and the Node.js it needs
 *
 * No CDK and no local state machine runner: on a host, `backup`/`restore`/`demo` say so and the
 * agent runs.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILT_FILES } from '../core/host/package-root';
import { HOST_PACKAGES, packageClosure } from '../infra/runtime-dependencies';
import { bundleCliSync } from './cli-bundle';
import { tarGz } from './tar-gz';

/** The file name of the bundle. */
export const HOST_BUNDLE_FILE = 'dbbackup-agent.tgz';

/** Writes the bundle's files into `dir` (empty or missing). */
export function stageHostBundle(projectRoot: string, dir: string): void {
  const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string; engines?: unknown; license?: string };
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  bundleCliSync({ projectRoot, outfile: path.join(dir, BUILT_FILES.cli), flavour: 'standalone' });
  cpSync(path.join(projectRoot, BUILT_FILES.bin), path.join(dir, BUILT_FILES.bin));
  chmodSync(path.join(dir, BUILT_FILES.bin), 0o755);
  const { name, version, engines, license } = manifest;
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, version, private: true, license, engines }, null, 2)}\n`);
  for (const relative of packageClosure(projectRoot, HOST_PACKAGES)) {
    cpSync(path.join(projectRoot, relative), path.join(dir, relative), { recursive: true });
  }
}

/** Builds the bundle and writes it to `file`. */
export function writeHostBundle(projectRoot: string, file: string): void {
  const staging = mkdtempSync(path.join(os.tmpdir(), 'dbbackup-host-bundle-'));
  try {
    stageHostBundle(projectRoot, staging);
    writeFileSync(file, tarGz(staging));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
