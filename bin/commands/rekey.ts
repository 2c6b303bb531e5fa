/**
 * `dbbackup rekey`: the data keys of an instance's encrypted backups wrapped by another key, their
 * data untouched (core/catalog/rekey.ts). For retiring a key beyond KMS's own rotation (which keeps
 * old key versions: nothing to do), a passphrase changed, or moving backups to another KMS key. Not
 * for a leaked key: the data keys stay the same (README: new backups under a new key instead).
 */
import type { Command } from 'commander';
import { assertCanWrap, rekeyBackup, rekeyPool, retireOldPoolKeys, rewrapTo, type RekeyResult } from '../../core/catalog/rekey';
import { PermanentError } from '../../core/errors';
import type { CliContext } from '../cli-context';
import { EXIT } from '../exit-codes';
import { encryptionRequest, keysRequest, withKeyOptions } from '../key-options';

function rekeyedWords(b: RekeyResult): string {
  if (b.gone) return 'deleted (pruned) while the rekey ran: nothing written for it';
  if (b.keys > 0) return `${b.keys} data key${b.keys === 1 ? '' : 's'} rewrapped (${b.artifacts} artifact${b.artifacts === 1 ? '' : 's'})`;
  return b.alreadyWrapped > 0 ? 'wrapped by the new key already, left as it is' : 'not encrypted, left as it is';
}

export function rekeyCommand(program: Command, context: () => CliContext): void {
  withKeyOptions(program
    .command('rekey')
    .description('wrap the data keys of an instance\'s encrypted backups (and its pool\'s) with another key, without rewriting their data')
    .requiredOption('--engine <engine>', 'the instance\'s engine')
    .requiredOption('--instance <name>', 'the instance')
    .option('--backup <id>', 'only this backup')
    .option('--to-kms <key>', 'the KMS key to wrap them with (id, ARN or alias): for KMS-wrapped keys, by ReEncrypt')
    .option('--to-key <ref>', 'the 32-byte key to wrap them with, by secret reference (e.g. file:/etc/dbbackup/new.key)')
    .option('--to-passphrase <ref>', 'the passphrase to wrap them with, by secret reference (e.g. env:NEW_PASSPHRASE)'))
    .action(async function runRekey(options: { engine: string; instance: string; backup?: string; toKms?: string; toKey?: string; toPassphrase?: string; key?: string; passphrase?: string }) {
      const ctx = context();
      ctx.requireStore();
      const to = encryptionRequest({ kms: options.toKms, key: options.toKey, passphrase: options.toPassphrase }, { kms: '--to-kms', key: '--to-key', passphrase: '--to-passphrase' }) as Parameters<typeof rewrapTo>[0] | undefined;
      if (!to) throw new PermanentError('give the new key: --to-kms, --to-key or --to-passphrase', { code: 'INVALID_INPUT' });
      const { keys } = keysRequest(options) as { keys?: Parameters<typeof rewrapTo>[1] };
      const { catalog, store, deps } = await ctx.runtimeFor();
      const newKeyOption = options.toKey !== undefined ? '--to-key' : '--to-passphrase';
      await assertCanWrap(to, deps).catch((error: unknown) => {
        if (!(error instanceof PermanentError)) throw error;
        throw new PermanentError(`${newKeyOption}: ${error.message} (no backup was touched)`, { code: error.code, cause: error });
      });
      const rewrap = rewrapTo(to, keys, deps);
      const entries = (await catalog.list({ engine: options.engine, instance: options.instance }))
        .filter((entry) => entry.manifest && (options.backup === undefined || entry.backupId === options.backup));
      if (entries.length === 0) {
        throw new PermanentError(`no complete backup${options.backup !== undefined ? ` ${options.backup}` : 's'} of ${options.engine}/${options.instance} in ${store.url}`, { code: 'BACKUP_NOT_FOUND' });
      }
      const backups: RekeyResult[] = [];
      for (const entry of entries) {
        backups.push(await rekeyBackup(store, entry.prefix, entry.manifest!, rewrap).catch((error: unknown) => {
          if (!(error instanceof PermanentError)) throw error;
          throw new PermanentError(`backup ${entry.backupId}: ${error.message} (backups rewrapped before it stay so; give the key it needs, or --backup to rekey one at a time)`, { code: error.code, cause: error });
        }));
      }
      const pool = await rekeyPool(store, options.engine, options.instance, to, rewrap);
      // What the rekey could not reach stays under the old key: said, and the exit code is 1, so the old key is not retired yet.
      const notRekeyed = options.backup !== undefined ? [] : (await catalog.list({ engine: options.engine, instance: options.instance, includeIncomplete: true }))
        .filter((entry) => !entry.manifest)
        .map((entry) => ({ backupId: entry.backupId, why: entry.status === 'damaged' ? `its manifest is damaged (${entry.damage ?? 'unreadable'})` : 'incomplete: still running, or left by a run that stopped' }));
      if (notRekeyed.length > 0) process.exitCode = EXIT.failed;
      // Every backup under the new key: the old one need open nothing more here, the pool's records included.
      const retired = options.backup === undefined && notRekeyed.length === 0 ? await retireOldPoolKeys(store, options.engine, options.instance, to, keys, deps) : 0;
      const result = { backups, poolKeys: pool, retiredPoolKeys: retired, notRekeyed };
      ctx.print(result, () => [
        ...backups.map((b) => `${b.backupId}: ${rekeyedWords(b)}`),
        `pool: ${pool === 0 ? 'no key to rewrap' : 'its key rewrapped for the new setting'}${retired > 0 ? `; ${retired} record${retired === 1 ? '' : 's'} the old key opened removed` : ''}`,
        ...notRekeyed.map((n) => `${n.backupId}: NOT rekeyed, ${n.why}: still under the old key`),
        ...(notRekeyed.length > 0 ? ['keep the old key until these are rekeyed (run rekey again once they are complete) or pruned'] : []),
      ].join('\n'));
    });
}
