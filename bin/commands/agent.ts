/**
 * `dbbackup agent <step> --input <json>`: runs one host-local step on this host and prints one
 * JSON line, an AgentResult. This is what SSM Run Command invokes on database hosts. With
 * `--result-key` the result is also written to the store, for outputs too large for SSM's
 * 24 000-character stdout.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { runAgentStep, type AgentResult } from '../../core/agent/agent-steps';
import { writeJson } from '../../core/store/json';
import { PermanentError, classify } from '../../core/errors';
import type { CliContext } from '../cli-context';
import { exitCodeFor } from '../exit-codes';

function readInput(text: string): unknown {
  const raw = text === '-' ? readFileSync(0, 'utf8') : text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new PermanentError(`--input is not valid JSON: ${(error as Error).message}`, { code: 'INVALID_INPUT' });
  }
}

export function agentCommand(program: Command, context: () => CliContext): void {
  program
    .command('agent')
    .description('run one host-local step (used by SSM Run Command on database hosts)')
    .argument('<step>', 'backup-snapshot | backup-validate | backup-upload | backup-cleanup | restore-prepare | restore-apply | restore-validate')
    .requiredOption('--input <json|@file|->', 'the step input (state JSON)')
    .option('--result-key <key>', 'also write the result JSON to this store key')
    .action(async function runAgent(step: string, options: { input: string; resultKey?: string }) {
      const ctx = context();
      let result: AgentResult;
      try {
        const runtime = await ctx.runtimeFor('agent');
        result = { ok: true, output: await runAgentStep(step, readInput(options.input), runtime.deps) };
      } catch (error) {
        const classified = classify(error);
        result = { ok: false, error: classified.toJSON() };
        process.exitCode = exitCodeFor(classified);
      }
      if (options.resultKey) {
        const runtime = await ctx.runtimeFor('agent');
        await writeJson(runtime.store, options.resultKey, result);
      }
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
