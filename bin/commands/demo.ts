/**
 * `dbbackup demo` (what `npm start` runs): for each built-in driver (drivers/index.ts), install what
 * its demo needs on this host when missing, start a throwaway server with data, back it up into the
 * store, restore it into a fresh server, validate the restore, and print a short summary.
 */
import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { consoleLogger } from '../../core/logger';
import { formatBytes } from '../../core/config/units';
import { ensureHostRequirements } from '../../core/host/host-requirements';
import type { CliContext } from '../cli-context';
import { EXIT } from '../exit-codes';

interface DemoResult {
  engine: string;
  seeded: string;
  backupId: string;
  bytes: number;
  backupMs: number;
  restoreMs: number;
  validation: string;
  ok: boolean;
}

export function demoCommand(program: Command, context: () => CliContext): void {
  program
    .command('demo')
    .description('back up and restore throwaway local servers end to end (what `npm start` runs)')
    .option('--engine <engine>', 'only this engine')
    .action(async function runDemo(options: { engine?: string }) {
      const ctx = context();
      const logger = consoleLogger(ctx.settings.logLevel);
      const workflows = await ctx.workflows();
      const workRoot = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-demo-'));
      const results: DemoResult[] = [];
      try {
        for (const { demo: scenario, host } of ctx.drivers.filter((d) => !options.engine || d.demo.engine === options.engine)) {
          ensureHostRequirements(host, 'demo', (line) => logger.info(line));
          if (!ctx.json) process.stderr.write(`${scenario.engine}: starting a throwaway server...\n`);
          const run = await scenario.start(path.join(workRoot, scenario.engine), logger);
          try {
            const backup = await workflows.backup({ engine: scenario.engine, instance: run.instance, config: run.config });
            if (!ctx.json) process.stderr.write(`${scenario.engine}: backed up ${run.seeded} as ${backup.backupId}; restoring into a fresh server...\n`);
            const restore = await workflows.restore({ backupId: backup.backupId, target: run.target });
            results.push({
              engine: scenario.engine,
              seeded: run.seeded,
              backupId: backup.backupId,
              bytes: backup.bytes,
              backupMs: backup.durationMs,
              restoreMs: restore.restoreDurationMs,
              validation: restore.validation.checks.map((c) => `${c.name}:${c.ok ? 'ok' : 'FAIL'}`).join(' '),
              ok: restore.validation.ok,
            });
          } finally {
            await run.stop();
          }
        }
      } finally {
        await rm(workRoot, { recursive: true, force: true });
      }
      const engineWidth = Math.max(0, ...results.map((r) => r.engine.length));
      ctx.print({ store: ctx.settings.storeUrl, results }, () => [
        `demo: backup → restore → validate, store ${ctx.settings.storeUrl}`,
        ...results.map((r) => `  ${r.engine.padEnd(engineWidth)} ${r.ok ? 'OK  ' : 'FAIL'} backup ${r.backupId}  ${formatBytes(r.bytes)} (${r.seeded})  backup ${(r.backupMs / 1000).toFixed(2)} s  restore ${(r.restoreMs / 1000).toFixed(2)} s  ${r.validation}`),
      ].join('\n'));
      if (results.length === 0 || results.some((r) => !r.ok)) process.exitCode = EXIT.failed;
    });
}
