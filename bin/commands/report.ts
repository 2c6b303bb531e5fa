/**
 * `dbbackup report`: per engine/instance, the newest verified backup's age against its RPO, the
 * newest good restore drill (its age against its limit, and what it measured: restore time and
 * throughput), and what is out of bounds. Exits 1 when anything is, so a cron job or CI can alert.
 * The bounds come from the instances file (`rpoHours`, `drill.maxAgeHours`) where it lists the
 * instance, from the options otherwise.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { instanceHealth, type HealthBounds } from '../../core/catalog/health-report';
import { PermanentError } from '../../core/errors';
import { DEFAULT_INSTANCES_FILE, InstancesConfigError, loadInstances, type InstanceConfig } from '../../infra/instances';
import type { CliContext } from '../cli-context';
import { EXIT } from '../exit-codes';
import { formatHealth } from '../format';

interface ReportOptions {
  engine?: string;
  instance?: string;
  instances?: string;
  rpoHours: string;
  drillMaxAgeHours: string;
}

export function reportCommand(program: Command, context: () => CliContext): void {
  program
    .command('report')
    .description('each instance against its bounds: newest backup age vs RPO, newest good drill and its measured restore time (RTO); exits 1 when anything is out of bounds')
    .option('--engine <engine>', 'only this engine')
    .option('--instance <name>', 'only this instance')
    .option('--instances <file>', `bounds per instance from this instances file (default: ${DEFAULT_INSTANCES_FILE} when there is one here); its instances without a backup are reported too`)
    .option('--rpo-hours <hours>', 'RPO of an instance the instances file does not list', '26')
    .option('--drill-max-age-hours <hours>', 'oldest a good drill may be, for an instance without a drill limit in the instances file', '168')
    .action(async function runReport(options: ReportOptions) {
      const ctx = context();
      ctx.requireStore();
      const defaults: HealthBounds = { rpoHours: hoursOption(options.rpoHours, '--rpo-hours'), drillMaxAgeHours: hoursOption(options.drillMaxAgeHours, '--drill-max-age-hours') };
      const file = options.instances ?? (existsSync(DEFAULT_INSTANCES_FILE) ? DEFAULT_INSTANCES_FILE : undefined);
      const listed = instancesFile(file).filter((i) => (!options.engine || i.engine === options.engine) && (!options.instance || i.name === options.instance));
      const { catalog, registry } = await ctx.runtimeFor();
      if (options.engine) registry.get(options.engine); // an unknown engine is bad input, not "no instances"
      const entries = await catalog.list({ engine: options.engine, instance: options.instance, sizes: true });
      const health = instanceHealth(entries, (engine, instance) => {
        const configured = listed.find((i) => i.engine === engine && i.name === instance);
        return { rpoHours: configured?.rpoHours ?? defaults.rpoHours, drillMaxAgeHours: configured?.drill?.maxAgeHours ?? defaults.drillMaxAgeHours };
      }, { expected: listed.map((i) => ({ engine: i.engine, instance: i.name })) });
      // Which bounds were applied, so bounds read from a file nobody meant (a sample in the current directory) show.
      const others = `--rpo-hours ${defaults.rpoHours}, --drill-max-age-hours ${defaults.drillMaxAgeHours}`;
      const bounds = file === undefined ? `bounds: ${others} (no instances file)` : `bounds: ${path.resolve(file)} for the ${listed.length} instance(s) it lists here, ${others} for any other`;
      const table = formatHealth(health, options.engine || options.instance ? `${options.engine ?? '*'}/${options.instance ?? '*'}` : undefined);
      ctx.print(health, () => (health.length > 0 ? `${table}\n${bounds}` : table));
      if (health.length === 0 || health.some((h) => h.problems.length > 0)) process.exitCode = EXIT.failed;
    });
}

function hoursOption(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new PermanentError(`${option} must be a positive number of hours, got '${text}'`, { code: 'INVALID_INPUT' });
  return value;
}

/** The instances `file` lists; none without one. */
function instancesFile(file: string | undefined): InstanceConfig[] {
  if (file === undefined) return [];
  try {
    return loadInstances(file);
  } catch (error) {
    if (error instanceof InstancesConfigError) throw new PermanentError(error.message, { code: 'INVALID_CONFIG' });
    throw error;
  }
}
