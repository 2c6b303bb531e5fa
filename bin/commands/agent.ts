/**
 * `dbbackup agent <step> --input <json|@file|-> | --input-base64 <b64>`: runs one host-local step on
 * this host and prints exactly one JSON line, an AgentResult — always, whatever failed. This is
 * what the stack's SSM document runs on database hosts. With `--result-key` the result is also
 * written to the store, for outputs too large for SSM's 24 000-character stdout; when that write
 * fails, the printed line still carries the step's own error (a failed step), or the write's
 * error when the step's output is too large to come back any other way.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { AGENT_STEP_NAMES } from '../../core/agent/agent-step-names';
import { runAgentStep, type AgentResult } from '../../core/agent/agent-steps';
import { SSM_STDOUT_LIMIT } from '../../core/host-runner/agent-result';
import { writeJson } from '../../core/store/json';
import { PermanentError, classify } from '../../core/errors';
import type { CliContext } from '../cli-context';
import { exitCodeFor } from '../exit-codes';

interface AgentOptions {
  input?: string;
  inputBase64?: string;
  resultKey?: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The step input from exactly one of --input / --input-base64. @throws PermanentError `INVALID_INPUT` */
function readInput(options: AgentOptions): unknown {
  if ((options.input === undefined) === (options.inputBase64 === undefined)) {
    throw new PermanentError('give the step input with exactly one of --input and --input-base64', { code: 'INVALID_INPUT' });
  }
  let raw: string;
  if (options.inputBase64 !== undefined) {
    if (!BASE64.test(options.inputBase64) || options.inputBase64.length % 4 !== 0) {
      throw new PermanentError('--input-base64 is not base64', { code: 'INVALID_INPUT' });
    }
    raw = Buffer.from(options.inputBase64, 'base64').toString('utf8');
  } else {
    const text = options.input ?? '';
    raw = text === '-' ? readFileSync(0, 'utf8') : text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
  }
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new PermanentError(`the step input is not valid JSON: ${(error as Error).message}`, { code: 'INVALID_INPUT' });
  }
}

function failure(error: unknown): AgentResult {
  return { ok: false, error: classify(error).toJSON() };
}

/**
 * Writes `result` to `key`. When that fails, says so on stderr and returns what the printed line
 * must carry: the result itself when stdout can bring it back (a failure, or a small output),
 * else the write's error.
 */
async function storeResult(ctx: CliContext, key: string, result: AgentResult): Promise<AgentResult> {
  try {
    const runtime = await ctx.runtimeFor('agent');
    await writeJson(runtime.store, key, result);
    return result;
  } catch (error) {
    const written = classify(error);
    process.stderr.write(`dbbackup agent: could not write the result to ${key}: ${written.message} [${written.code}]\n`);
    const length = JSON.stringify(result).length + 1;
    if (!result.ok || length < SSM_STDOUT_LIMIT) return result;
    const message = `the step succeeded, but its result (${length} characters, more than SSM keeps of stdout) could not be written to ${key}: ${written.message}`;
    return { ok: false, error: { ...written.toJSON(), message } };
  }
}

export function agentCommand(program: Command, context: () => CliContext): void {
  program
    .command('agent')
    .description('run one host-local step (what the stack\'s SSM document runs on database hosts)')
    .argument('<step>', AGENT_STEP_NAMES.join(' | '))
    .option('--input <json|@file|->', 'the step input (state JSON)')
    .option('--input-base64 <base64>', 'the step input as base64-encoded JSON')
    .option('--result-key <key>', 'also write the result JSON to this store key')
    .action(async function runAgent(step: string, options: AgentOptions) {
      const ctx = context();
      let result: AgentResult;
      try {
        const input = readInput(options);
        const runtime = await ctx.runtimeFor('agent');
        result = { ok: true, output: await runAgentStep(step, input, runtime.deps) };
      } catch (error) {
        result = failure(error);
      }
      if (options.resultKey) result = await storeResult(ctx, options.resultKey, result);
      process.exitCode = result.ok ? 0 : exitCodeFor(result.error);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
