import type { Command } from 'commander';
import { parseSize } from '../../core/config/units';
import { parseJsonOption, type CliContext } from '../cli-context';
import { formatBackup } from '../format';

export function backupCommand(program: Command, context: () => CliContext): void {
  program
    .command('backup')
    .description('take a consistent backup of one database instance into the store')
    .argument('<engine>', 'driver name, e.g. etcd')
    .requiredOption('--instance <name>', 'instance name; backups are grouped by engine/instance')
    .requiredOption('--config <json|@file>', 'driver connection config; secrets as {"$secret":"ssm:/..."}')
    .option('--rate-limit <size/s>', 'upload rate limit, e.g. 50MB/s')
    .action(async function runBackupCommand(engine: string, options: { instance: string; config: string; rateLimit?: string }) {
      const ctx = context();
      const request = {
        engine,
        instance: options.instance,
        config: parseJsonOption(options.config, '--config'),
        ...(options.rateLimit ? { rateLimit: parseSize(options.rateLimit) } : {}),
      };
      const summary = await (await ctx.workflows()).backup(request);
      ctx.print(summary, () => formatBackup(summary));
    });
}
