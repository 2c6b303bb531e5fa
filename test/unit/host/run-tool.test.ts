/**
 * How a finished tool becomes an error (aborted, not started, its input failed, failed), judged
 * the same for every engine's tools and every way of running one — real processes (bash) for the
 * buffered runs. The engine's reading of a failed tool's stderr is a stand-in here (TOOLS); the
 * drivers' own are tested with them (test/unit/mysql/backup-tool.test.ts).
 */
import { Readable } from 'node:stream';
import { PermanentError } from '../../../core/errors';
import { runTool, toolOutput } from '../../../core/host/run-tool';
import { toolExitError, type ToolErrors } from '../../../core/host/tool-errors';

/** A stand-in engine whose tools report a damaged stream by `invalid checksum`. */
const TOOLS: ToolErrors = {
  engine: 'test',
  fallbackCode: 'TEST_TOOL_FAILED',
  diagnose: (stderr) => (/invalid checksum/.test(stderr) ? { code: 'SNAPSHOT_CORRUPT', summary: 'the backup stream is corrupt or truncated' } : undefined),
};

/** The error Node gives a child process stopped by its abort signal. */
const abortError = (): NodeJS.ErrnoException => Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });

describe('toolExitError', () => {
  it.each([
    ['killed by SIGTERM', { code: null, signal: 'SIGTERM' as const }],
    ['exited 1 from its signal handler', { code: 1, signal: null }],
    ['exited 0 from its signal handler', { code: 0, signal: null }],
  ])('reports a tool stopped by the abort signal as ABORTED whatever it then %s', (_how, status) => {
    // Act
    const error = toolExitError(TOOLS, 'mariabackup', 'mariabackup --prepare', { ...status, error: abortError(), stderr: "[00] copying\nIDENTIFIED BY PASSWORD '*94BD'" });

    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'ABORTED', message: "mariabackup --prepare was stopped: the step was aborted\n[00] copying\nIDENTIFIED BY PASSWORD '<redacted>'" });
  });

  it('reports a tool that could not be started as MISSING_TOOL', () => {
    // Prepare
    const enoent = Object.assign(new Error('spawn mbstream ENOENT'), { code: 'ENOENT', syscall: 'spawn mbstream' });
    const eacces = Object.assign(new Error('spawn mbstream EACCES'), { code: 'EACCES', syscall: 'spawn mbstream' });

    // Act
    const missing = toolExitError(TOOLS, 'mbstream', 'mbstream -x', { code: -2, signal: null, error: enoent, stderr: '' });
    const denied = toolExitError(TOOLS, 'mbstream', 'mbstream -x', { code: -13, signal: null, error: eacces, stderr: '' });

    // Assess
    expect(missing).toMatchObject({ name: 'PermanentError', code: 'MISSING_TOOL', message: 'mbstream is not installed on this host' });
    expect(denied).toMatchObject({ name: 'PermanentError', code: 'MISSING_TOOL', message: 'cannot run mbstream: spawn mbstream EACCES' });
  });

  it('reports a failed input as itself, not as the failure of the tool it starved', () => {
    // Prepare
    const input = new PermanentError('artifact does not match its checksum', { code: 'CHECKSUM_MISMATCH' });

    // Act
    const error = toolExitError(TOOLS, 'mbstream', 'mbstream -x', { code: 1, signal: null, inputError: input, stderr: 'xb_stream_read_chunk(): unexpected end of stream' });

    // Assess
    expect(error).toBe(input);
  });
});

describe('runTool', () => {
  /** Runs bash `script` as a tool. */
  const bash = (script: string, options: Partial<Parameters<typeof runTool>[2]> = {}) => runTool('bash', ['-c', script], { errors: TOOLS, what: 'test tool --prepare', ...options });

  /** A stdin that yields some bytes, then fails with `error`. */
  function failingInput(error: Error): Readable {
    return new Readable({
      read() {
        this.push(Buffer.alloc(4096, 0x61));
        setTimeout(() => this.destroy(error), 50);
      },
    });
  }

  it.each([
    ['is killed by the abort', 'exec sleep 30'],
    ['exits 1 from its signal handler', "sleep 30 & p=$!; trap 'kill $p; exit 1' TERM; wait $p"],
  ])('rejects with ABORTED when the step is aborted and the tool %s', async (_how, script) => {
    // Prepare
    const abort = new AbortController();
    const running = bash(`echo started >&2; ${script}`, { signal: abort.signal, onStderrLine: () => abort.abort() });

    // Act & Assess
    await expect(running).rejects.toMatchObject({
      name: 'PermanentError', code: 'ABORTED', message: 'test tool --prepare was stopped: the step was aborted\nstarted',
    });
  });

  it('rejects with the input\'s own error when its stdin fails, even when the tool then exits non-zero', async () => {
    // Prepare
    const input = new PermanentError('artifact does not match its checksum', { code: 'CHECKSUM_MISMATCH' });

    // Act
    const running = bash("trap 'exit 2' TERM; while IFS= read -r _; do :; done", { stdin: failingInput(input) });

    // Assess
    await expect(running).rejects.toBe(input);
  });

  it('rejects with MISSING_TOOL for a tool that is not installed and with the classified failure for a failing one', async () => {
    // Act
    const [missing, failing] = await Promise.allSettled([
      runTool('no-such-backup-tool', [], { errors: TOOLS, what: 'no-such-backup-tool --prepare' }),
      bash("echo 'xb_stream_read_chunk(): invalid checksum at offset 0x10' >&2; exit 1"),
    ]);

    // Assess
    expect(missing).toMatchObject({ status: 'rejected', reason: { name: 'PermanentError', code: 'MISSING_TOOL', message: 'no-such-backup-tool is not installed on this host' } });
    expect(failing).toMatchObject({
      status: 'rejected',
      reason: { name: 'PermanentError', code: 'SNAPSHOT_CORRUPT', message: expect.stringMatching(/^test tool --prepare exited with code 1: the backup stream is corrupt/) },
    });
  });

  it('resolves with the kept stderr when the tool exits 0', async () => {
    // Act
    const result = await bash('cat >/dev/null; echo done >&2', { stdin: Readable.from([Buffer.from('stream')]) });

    // Assess
    expect(result).toEqual({ stdout: '', stderr: 'done' });
  });
});

describe('runTool and toolOutput, captured output', () => {
  it('returns stdout when asked to keep it, and shows it in the error when stderr is empty', async () => {
    // Act
    const ok = await runTool('bash', ['-c', 'echo \'{"revision":3}\''], { errors: TOOLS, what: 'status', captureStdout: true });
    const failed = await runTool('bash', ['-c', 'echo only-stdout; exit 2'], { errors: TOOLS, what: 'status', captureStdout: true }).catch((e: unknown) => e);

    // Assess
    expect(ok.stdout).toBe('{"revision":3}\n');
    expect(failed).toMatchObject({ name: 'PermanentError', code: 'TEST_TOOL_FAILED', engine: 'test', message: 'status exited with code 2: see its output\nonly-stdout' });
  });

  it('stops a tool that outlives its timeout, which then fails as killed', async () => {
    // Act
    const error = await runTool('sleep', ['30'], { errors: TOOLS, what: 'sleep 30', timeoutMs: 200 }).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ code: 'TEST_TOOL_FAILED', message: expect.stringMatching(/^sleep 30 was killed by SIGTERM/) });
  });

  it('toolOutput returns what a tool printed on both streams, and MISSING_TOOL for none', async () => {
    // Act
    const printed = await toolOutput('bash', ['-c', 'echo out; echo "tool version 1.2.3" >&2; exit 1'], { errors: TOOLS });
    const missing = await toolOutput('no-such-tool', ['--version'], { errors: TOOLS }).catch((e: unknown) => e);

    // Assess
    expect(printed).toBe('out\n\ntool version 1.2.3');
    expect(missing).toMatchObject({ name: 'PermanentError', code: 'MISSING_TOOL', engine: 'test' });
  });
});
