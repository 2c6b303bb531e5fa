import path from 'node:path';
import type { Command } from 'commander';
import { parseSize } from '../../core/config/units';
import { parseJsonOption, type CliContext } from '../cli-context';
import { formatBackup } from '../format';
import { encodingRequest, withEncodingOptions, type EncodingOptions } from '../key-options';
import { packageRoot } from '../../core/host/package-root';
import { BUILTIN_DRIVERS } from '../../drivers';

/** Where each built-in engine's config fields are told, for `backup --help`. */
function configHelp(): string {
  const engines = BUILTIN_DRIVERS.map((driver) => driver.plugin.manifest.name);
  return `\nBuilt-in engines: ${engines.join(', ')}. Each one's --config fields, with examples: ${path.join(packageRoot(), 'drivers', '<engine>', 'README.md')}\n`
    + 'Example: dbbackup backup mysql --instance orders --config \'{"host":"db1","user":"backup","password":{"$secret":"ssm:/db1/backup"},"databases":["orders"]}\'';
}

export function backupCommand(program: Command, context: () => CliContext): void {
  withEncodingOptions(program
    .command('backup'))
    .description('take a consistent backup of one database instance into the store')
    .addHelpText('after', configHelp)
    .argument('<engine>', 'driver name, e.g. etcd')
    .requiredOption('--instance <name>', 'instance name; backups are grouped by engine/instance')
    .requiredOption('--config <json|@file>', 'driver connection config; secrets as {"$secret":"ssm:/..."}')
    .option('--rate-limit <size/s>', 'upload rate limit, e.g. 50MB/s')
    .option('--incremental', 'take only what changed since the newest verified backup of the instance (drivers with the incremental capability); without one, a full backup')
    .option('--resume', 'continue the incomplete backup a killed run left, whatever its age (default: when younger than 6 h)')
    .option('--no-resume', 'always take a new backup')
    .action(async function runBackupCommand(engine: string, options: EncodingOptions & { instance: string; config: string; rateLimit?: string; incremental?: boolean; resume?: boolean }) {
      const ctx = context();
      ctx.requireStore({ mayCreate: true });
      const request = {
        engine,
        instance: options.instance,
        config: parseJsonOption(options.config, '--config'),
        ...(options.rateLimit ? { rateLimit: parseSize(options.rateLimit) } : {}),
        ...(options.incremental ? { incremental: true } : {}),
        ...(options.resume === undefined ? {} : { resume: options.resume ? 'always' : 'never' }),
        ...encodingRequest(options),
      };
      const summary = await (await ctx.workflows()).backup(request);
      ctx.print(summary, () => formatBackup(summary));
    });
}
