/**
 * `dbbackup drill`: for each instance in the store (or the one named), restore its newest
 * verified backup into a scratch target on this host (or `--target`), validate it there, tear the
 * target down, and record the result next to the backup's manifest. Exits non-zero when any
 * drill failed or an instance had nothing to drill.
 */
import { keysRequest, withKeyOptions } from '../key-options';
import type { Command } from 'commander';
import { isVerified, type CatalogEntry } from '../../core/catalog/catalog';
import type { DrillRecord } from '../../core/catalog/drill-record';
import type { BackupManifest } from '../../core/catalog/manifest';
import { PermanentError, classify, messageWithCode } from '../../core/errors';
import { parseJsonOption, type CliContext } from '../cli-context';
import { EXIT, exitCodeFor } from '../exit-codes';
import { withSecretPlaceholders } from '../../core/secrets';
import { formatDrills } from '../format';

/** One instance's drill: the record, or why there was none. */
export interface DrillOutcome {
  engine: string;
  instance: string;
  backupId?: string;
  /** How old the drilled backup was when the drill started (its RPO then). */
  backupAgeMs?: number;
  drill?: DrillRecord;
  error?: string;
  /** The exit code the error alone would give (a drill that could not run). */
  code?: number;
}

export function drillCommand(program: Command, context: () => CliContext): void {
  withKeyOptions(program
    .command('drill'))
    .description('restore each instance\'s newest verified backup into a scratch target, validate it, tear it down, and record the result (restore-verified or restore failed)')
    .option('--engine <engine>', 'only this engine')
    .option('--instance <name>', 'only this instance')
    .option('--target <json|@file>', 'restore into this empty target of yours instead of a scratch one started here (left as restored: empty it before the next drill); needs --engine and --instance')
    .option('--target-settings <json|@file>', 'fields set on the scratch target, e.g. the credentials its validation needs: {"auth":[{"scheme":"digest","credential":{"$secret":"ssm:/zk/auth"}}]}')
    .action(async function runDrill(options: { engine?: string; instance?: string; target?: string; targetSettings?: string; key?: string; passphrase?: string }) {
      const ctx = context();
      ctx.requireStore();
      if (options.target !== undefined && !(options.engine && options.instance)) {
        throw new PermanentError('--target names one instance\'s target: give --engine and --instance too', { code: 'INVALID_INPUT' });
      }
      // Each engine's target has fields of its own: settings for one applied to another's are refused, after its scratch target started.
      if (options.targetSettings !== undefined && !options.engine) {
        throw new PermanentError('--target-settings are fields of one engine\'s target: give --engine too (and --instance for one instance)', { code: 'INVALID_INPUT' });
      }
      const target = options.target === undefined ? undefined : parseJsonOption(options.target, '--target');
      const targetSettings = options.targetSettings === undefined ? undefined : parseJsonOption(options.targetSettings, '--target-settings');
      const { catalog, store, registry } = await ctx.runtimeFor();
      if (options.engine) registry.get(options.engine); // an unknown engine is bad input, not "nothing to drill"
      // A target of one's own is checked here, before any drill: its problems are not the backup's.
      if (target && options.engine) registry.parseRestoreTarget(options.engine, withSecretPlaceholders({ ...target, ...targetSettings }));
      const workflows = await ctx.workflows();
      // One listing: per instance, its newest verified backup (the list is newest first) — drilled again after a failed drill, which `latest` passes over.
      const instances = new Map<string, { engine: string; instance: string; entry?: CatalogEntry & { manifest: BackupManifest } }>();
      for (const e of await catalog.list({ engine: options.engine, instance: options.instance })) {
        const key = `${e.engine}/${e.instance}`;
        const found = instances.get(key) ?? { engine: e.engine, instance: e.instance };
        if (!found.entry && isVerified(e) && e.manifest) found.entry = e as CatalogEntry & { manifest: BackupManifest };
        instances.set(key, found);
      }
      if (instances.size === 0 && options.engine && options.instance) instances.set(`${options.engine}/${options.instance}`, { engine: options.engine, instance: options.instance });
      const outcomes: DrillOutcome[] = [];
      for (const { engine, instance, entry } of instances.values()) {
        if (!entry) {
          outcomes.push({ engine, instance, error: `BACKUP_NOT_FOUND: no verified backup found for ${engine}/${instance} in ${store.url}` });
          continue;
        }
        if (!ctx.json) process.stderr.write(`${engine}/${instance}: drilling ${entry.backupId}...\n`);
        const backupAgeMs = Date.now() - Date.parse(entry.manifest.completedAt);
        try {
          const drill = await workflows.drill({ backupId: entry.backupId, engine, instance, target, targetSettings, ...keysRequest(options) });
          outcomes.push({ engine, instance, backupId: entry.backupId, backupAgeMs, drill });
        } catch (error) {
          const classified = classify(error);
          outcomes.push({ engine, instance, backupId: entry.backupId, backupAgeMs, error: messageWithCode(classified), code: exitCodeFor(classified) });
        }
      }
      ctx.print(outcomes, () => formatDrills(outcomes));
      // A drill that ran and failed is a failure (1); a drill that could not run says why (2: its target, 3: try again).
      const notRun = outcomes.find((o) => o.code !== undefined);
      if (outcomes.length === 0 || outcomes.some((o) => o.drill && !o.drill.ok) || outcomes.some((o) => !o.drill && o.code === undefined)) process.exitCode = EXIT.failed;
      else if (notRun) process.exitCode = notRun.code;
    });
}
