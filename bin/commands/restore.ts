import type { Command } from 'commander';
import { parseSize } from '../../core/config/units';
import { parseJsonOption, type CliContext } from '../cli-context';
import { formatRestore, passedOverWarning } from '../format';
import { keysRequest, withKeyOptions } from '../key-options';

export function restoreCommand(program: Command, context: () => CliContext): void {
  withKeyOptions(program
    .command('restore'))
    .description('restore a backup into a target and prove it worked')
    .argument('<backup-id>', 'a backup id, or "latest" (with --engine and --instance)')
    .requiredOption('--target <json|@file>', 'restore target for the driver (data dir, endpoints...)')
    .option('--engine <engine>', 'engine: required with "latest", narrows an id that exists under several')
    .option('--instance <name>', 'instance: required with "latest", narrows an id that exists under several')
    .option('--verified', 'with "latest": the newest restore-verified backup (one a drill restored and validated)', false)
    .option('--force', 'replace a non-empty target', false)
    .option('--rate-limit <size/s>', 'download rate limit, e.g. 50MB/s')
    .action(async function runRestoreCommand(backupId: string, options: { target: string; engine?: string; instance?: string; verified: boolean; force: boolean; rateLimit?: string; key?: string; passphrase?: string }) {
      const ctx = context();
      ctx.requireStore();
      const request = {
        backupId,
        engine: options.engine,
        instance: options.instance,
        target: parseJsonOption(options.target, '--target'),
        force: options.force,
        ...(options.verified ? { verified: true } : {}),
        ...(options.rateLimit ? { rateLimit: parseSize(options.rateLimit) } : {}),
        ...keysRequest(options),
      };
      const summary = await (await ctx.workflows()).restore(request);
      ctx.print(summary, () => formatRestore(summary));
      const warning = passedOverWarning('restored', summary.backupId, summary.passedOver);
      if (warning) process.stderr.write(warning);
    });
}
