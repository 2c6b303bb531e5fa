/**
 * `dbbackup`: backup, restore, list, show, verify, prune, drill, report, remote (the deployed state machines), demo, and the host `agent`.
 * Human output by default, `--json` for scripts; exit codes in exit-codes.ts.
 */
import { Command, CommanderError, Option } from 'commander';
import { LOG_LEVELS } from '../core/config/settings';
import { CliContext, type GlobalOptions } from './cli-context';
import { withHostConfig } from '../core/config/host-config';
import { packageVersion } from '../core/host/package-root';
import { EXIT, exitCodeFor } from './exit-codes';
import { backupCommand } from './commands/backup';
import { restoreCommand } from './commands/restore';
import { catalogCommands } from './commands/catalog';
import { demoCommand } from './commands/demo';
import { drillCommand } from './commands/drill';
import { rekeyCommand } from './commands/rekey';
import { usageHint } from './key-options';
import { reportCommand } from './commands/report';
import { remoteCommand } from './commands/remote';
import { agentCommand } from './commands/agent';
import { BUILTIN_DRIVERS } from '../drivers';
import { letHeapGrowWithStreams } from '../core/io/heap-growth';

export function buildProgram(context: () => CliContext): Command {
  const program = new Command('dbbackup')
    .description('Consistent database backups to local or S3 storage, and restores with proof.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--store <url>', 'store: a directory, file:///abs/path or s3://bucket/prefix (env DBBACKUP_STORE, default ./backups)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--log-level <level>', 'logs on stderr at or above this level (env DBBACKUP_LOG_LEVEL, default warn)').choices(LOG_LEVELS))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  backupCommand(program, context);
  restoreCommand(program, context);
  catalogCommands(program, context);
  drillCommand(program, context);
  rekeyCommand(program, context);
  reportCommand(program, context);
  remoteCommand(program, context);
  demoCommand(program, context);
  agentCommand(program, context);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** What `command` left when interrupted, and what to do: a restore's or a drill's own target may hold part of a backup, which a plain rerun refuses (one it had not begun writing, it takes). */
function afterInterrupt(command: string | undefined): string {
  switch (command) {
    case 'restore':
      return 'stopped where it was: run the same restore again — a target it had not begun writing (it was still downloading) is as it was; '
        + 'one holding part of the backup (an unfinished restore) is refused by a rerun without --force (TARGET_NOT_EMPTY, naming what it holds): then run it with --force '
        + '(the host must allow replacing this target: DBBACKUP_RESTORE_SERVERS for a database server, DBBACKUP_RESTORE_ROOTS for a data directory), or drop what it wrote';
    case 'drill':
      return 'stopped where it was: a target given with --target may hold part of a backup — empty it before the next drill; a scratch target is removed by the next run on this host';
    case 'remote':
      return 'stopped following it: an execution it started goes on in AWS (`dbbackup remote show <execution>` follows it there)';
    default:
      return 'stopped where it was: run the command again (a backup resumes what it can; the next run on this host reclaims what this one left)';
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<never> {
  letHeapGrowWithStreams(); // backups, restores and the host agent's steps stream their data through this process
  // A reader that stops early (`| head`) closes the pipe: the rest of the output is dropped, the command's outcome stands.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreClosedPipe);
  let ctx: CliContext | undefined;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      ctx?.progress.stop();
      const message = `interrupted by ${signal}, ${afterInterrupt(program.args[0])}`;
      process.stderr.write(`dbbackup: ${message}\n`);
      if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { name: 'Interrupted', code: 'INTERRUPTED', message } })}\n`);
      process.exit(code);
    });
  }
  // The host's own configuration (/etc/dbbackup/dbbackup.env) fills what the environment leaves unset.
  const program = buildProgram(() => (ctx ??= new CliContext(program.opts<GlobalOptions>(), withHostConfig(env), BUILTIN_DRIVERS)));
  const withHint = { outputError: (text: string, write: (text: string) => void) => write(usageHint(text, argv)) };
  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) command.configureOutput(withHint);
  let code: number = EXIT.ok;
  try {
    await program.parseAsync(argv);
    code = typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    ctx?.progress.stop();
    // --json holds for every failure, also one before the context exists (usage, a bad setting).
    const json = ctx?.json ?? (program.opts<GlobalOptions>().json === true || argv.includes('--json'));
    if (error instanceof CommanderError) {
      code = error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
      if (code !== EXIT.ok && json) process.stdout.write(`${JSON.stringify({ error: { name: 'UsageError', code: 'INVALID_USAGE', message: error.message } })}\n`);
    } else {
      code = exitCodeFor(error);
      const { name, code: errorCode, message } = error as { name?: string; code?: string; message?: string };
      process.stderr.write(`dbbackup: ${message ?? String(error)}${errorCode ? ` [${errorCode}]` : ''}\n`);
      if (json) process.stdout.write(`${JSON.stringify({ error: { name, code: errorCode, message } })}\n`);
    }
  }
  await written(process.stdout);
  await written(process.stderr);
  process.exit(code);
}

function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

/**
 * Resolves once everything written to `stream` has been handed to the system: a pipe takes 64 KiB
 * at once, and `process.exit` drops what it has not yet taken (a `--json list | jq` cut short).
 */
function written(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0 || stream.destroyed) resolve();
    else stream.write('', () => resolve());
  });
}

