/** list, show, verify, prune: reading and tidying what the store holds. */
import type { Command } from 'commander';
import { PermanentError } from '../../core/errors';
import { sweepPools } from '../../core/catalog/pool-sweep';
import { prune } from '../../core/catalog/prune';
import { findLeftovers, reclaimLeftovers } from '../../core/runs/leftovers';
import { runRecordGone } from '../../core/backup/run-records';
import { verifyBackup } from '../../core/catalog/verification';
import { unlistedArtifacts } from '../../core/catalog/backup-record';
import { isIncomplete } from '../../core/catalog/catalog';
import { parseDuration } from '../../core/config/units';
import type { CliContext } from '../cli-context';
import { EXIT } from '../exit-codes';
import { formatLeftovers, formatList, formatPools, formatPrune, formatShow, formatVerify, listedEntries, passedOverWarning } from '../format';

interface Scope { engine?: string; instance?: string }

export function catalogCommands(program: Command, context: () => CliContext): void {
  program
    .command('list')
    .description('list backups, newest first')
    .option('--engine <engine>', 'only this engine')
    .option('--instance <name>', 'only this instance')
    .option('--all', 'include incomplete backups (crashed or running)', false)
    .action(async function runList(options: Scope & { all: boolean }) {
      const ctx = context();
      ctx.requireStore();
      const { catalog } = await ctx.runtimeFor();
      const all = await catalog.list({ engine: options.engine, instance: options.instance, includeIncomplete: true, sizes: true }); // (the same listing: incomplete ones read nothing more)
      const entries = options.all ? all : all.filter((e) => !isIncomplete(e));
      ctx.print(listedEntries(entries), () => formatList(entries, all.length - entries.length));
    });

  program
    .command('show')
    .description('show one backup: consistency point, artifacts, validation')
    .argument('<backup-id>', 'a backup id, or "latest" (with --engine and --instance when the store holds several instances)')
    .option('--engine <engine>', 'narrows the id or "latest"')
    .option('--instance <name>', 'narrows the id or "latest"')
    .action(async function runShow(backupId: string, options: Scope) {
      const ctx = context();
      ctx.requireStore();
      const { catalog } = await ctx.runtimeFor();
      const entry = await catalog.find(backupId, options);
      ctx.print(entry, () => formatShow(entry));
    });

  program
    .command('verify')
    .description('re-read every artifact from the store and check its sha256 against the manifest, and that the manifest lists every artifact the backup\'s facts name')
    .argument('<backup-id>', 'a backup id, or "latest" (with --engine and --instance when the store holds several instances)')
    .option('--engine <engine>', 'narrows the id or "latest"')
    .option('--instance <name>', 'narrows the id or "latest"')
    .action(async function runVerify(backupId: string, options: Scope) {
      const ctx = context();
      ctx.requireStore();
      const { catalog, store, registry } = await ctx.runtimeFor();
      const entry = await catalog.get(backupId, options);
      const progress = (done: number, total: number) => ctx.progress('verify', done, total);
      const record = await verifyBackup(store, entry.prefix, entry.manifest, { onProgress: progress, unlisted: unlistedArtifacts(registry, entry.manifest) });
      ctx.print(record, () => formatVerify(record));
      const warning = passedOverWarning('verified', record.backupId, entry.passedOver);
      if (warning) process.stderr.write(warning);
      if (!record.ok) process.exitCode = EXIT.failed;
    });

  program
    .command('prune')
    .description('apply retention: keep the N newest and/or those younger than a max age, sweep the pool objects (deduplicated files) no kept backup lists, and remove the leftovers of dead runs on this host (dry run unless --apply)')
    .option('--keep-last <n>', 'keep the n newest complete backups per engine/instance')
    .option('--max-age <duration>', 'keep backups younger than this, e.g. 30d')
    .option('--pool-grace <duration>', 'sweep an unlisted pool object only when older than this (a running backup\'s uploads are younger), e.g. 6h; default 48h')
    .option('--engine <engine>', 'only this engine')
    .option('--instance <name>', 'only this instance')
    .option('--apply', 'really delete; without it, a dry run that only says what it would delete', false)
    .action(async function runPrune(options: Scope & { keepLast?: string; maxAge?: string; poolGrace?: string; apply: boolean }) {
      const ctx = context();
      ctx.requireStore();
      const keepLast = options.keepLast === undefined ? undefined : Number(options.keepLast);
      if (keepLast !== undefined && !Number.isInteger(keepLast)) {
        throw new PermanentError(`--keep-last must be a whole number, got '${options.keepLast}'`, { code: 'INVALID_POLICY' });
      }
      const { catalog, store, deps, registry } = await ctx.runtimeFor();
      const policy = {
        keepLast,
        maxAgeMs: options.maxAge === undefined ? undefined : parseDuration(options.maxAge),
        engine: options.engine,
        instance: options.instance,
        apply: options.apply,
      };
      const decisions = await prune(catalog, store, policy, registry);
      const poolGraceMs = options.poolGrace === undefined ? undefined : parseDuration(options.poolGrace);
      const pools = await sweepPools(catalog, store, { ...policy, pruned: decisions, ...(poolGraceMs === undefined ? {} : { poolGraceMs }) });
      // The host-local side: spool and partial downloads of dead runs (a live run's are kept).
      const leftovers = options.apply
        ? await reclaimLeftovers(deps.spoolRoot, { logger: deps.logger, backupGone: runRecordGone(store) })
        : await findLeftovers(deps.spoolRoot, { backupGone: runRecordGone(store) });
      ctx.print(
        [
          ...decisions.map((d) => ({ kind: 'backup', backupId: d.entry.backupId, engine: d.entry.engine, instance: d.entry.instance, action: d.action, reason: d.reason, applied: options.apply })),
          ...pools.map((p) => ({ kind: 'pool', ...p })),
          ...leftovers.map((l) => ({ kind: 'leftover', path: l.path, bytes: l.bytes, action: l.action === 'remove' ? 'delete' : 'keep', reason: l.reason, applied: options.apply })),
        ],
        () => `${formatPrune(decisions, options.apply)}\n${formatPools(pools, options.apply)}\n${formatLeftovers(leftovers, deps.spoolRoot, options.apply)}`,
      );
    });
}
