/**
 * `dbbackup demo` (what `npm start` runs): for each built-in driver (drivers/index.ts), install what
 * its demo needs on this host when missing, start a throwaway server with data, back it up into the
 * store, then drill that backup — restore it into a scratch server (the driver's scratch.ts),
 * validate it, tear the scratch server down, and record it restore-verified — and print a short
 * summary with each engine's RPO (the backup's age when drilled) and RTO (the measured restore).
 */
import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
  /** The backup's age when its drill began (the RPO a failure then would have meant). */
  rpoMs: number;
  /** The drill's restore: download and apply (the RTO). */
  restoreMs: number;
  restoreBytesPerSecond: number;
  validation: string;
  ok: boolean;
  reason?: string;
}

export function demoCommand(program: Command, context: () => CliContext): void {
  program
    .command('demo')
    .description('back up throwaway local servers and drill each backup: restore into a scratch server, validate, tear down (what `npm start` runs)')
    .option('--engine <engine>', 'only this engine')
    .action(async function runDemo(options: { engine?: string }) {
      const ctx = context();
      const logger = ctx.logger();
      const workflows = await ctx.workflows();
      const { catalog } = await ctx.runtimeFor();
      const workRoot = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-demo-'));
      const results: DemoResult[] = [];
      try {
        for (const { demo: scenario, host } of ctx.drivers.filter((d) => !options.engine || d.demo.engine === options.engine)) {
          ensureHostRequirements(host, 'demo', (line) => logger.info(line));
          if (!ctx.json) process.stderr.write(`${scenario.engine}: starting a throwaway server...\n`);
          const run = await scenario.start(path.join(workRoot, scenario.engine), logger);
          try {
            const backup = await workflows.backup({ engine: scenario.engine, instance: run.instance, config: run.config });
            if (!ctx.json) process.stderr.write(`${scenario.engine}: backed up ${run.seeded} as ${backup.backupId}; drilling it in a scratch server...\n`);
            const entry = await catalog.get(backup.backupId, { engine: scenario.engine, instance: run.instance });
            const rpoMs = Date.now() - Date.parse(entry.manifest.completedAt);
            const drill = await workflows.drill({ backupId: entry.backupId, engine: scenario.engine, instance: run.instance });
            results.push({
              engine: scenario.engine,
              seeded: run.seeded,
              backupId: backup.backupId,
              bytes: backup.bytes,
              backupMs: backup.durationMs,
              rpoMs,
              restoreMs: drill.restoreDurationMs,
              restoreBytesPerSecond: drill.bytesPerSecond,
              validation: drill.checks.map((c) => `${c.name}:${c.ok ? 'ok' : 'FAIL'}`).join(' '),
              ok: drill.ok,
              ...(drill.reason ? { reason: drill.reason } : {}),
            });
          } finally {
            await run.stop();
          }
        }
      } finally {
        await rm(workRoot, { recursive: true, force: true });
      }
      const engineWidth = Math.max(0, ...results.map((r) => r.engine.length));
      const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      ctx.print({ store: ctx.settings.storeUrl, results }, () => [
        `demo: backup → drill (restore into a scratch server → validate → tear down), store ${ctx.settings.storeUrl}`,
        ...results.map((r) => `  ${r.engine.padEnd(engineWidth)} ${r.ok ? 'OK  ' : 'FAIL'} backup ${r.backupId}  ${formatBytes(r.bytes)} of ${r.seeded}  backup ${secs(r.backupMs)}  `
          + `RPO ${secs(r.rpoMs)}  RTO ${secs(r.restoreMs)} (${formatBytes(r.restoreBytesPerSecond)}/s)  ${r.ok ? r.validation : r.reason}`),
      ].join('\n'));
      if (results.length === 0 || results.some((r) => !r.ok)) process.exitCode = EXIT.failed;
    });
}
