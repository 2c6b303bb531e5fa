/**
 * A tool whose stdout is the product (a backup stream, a binlog replay): read by this process as it
 * is produced, so it can be hashed, checked and sent to the store on the way — and never committed
 * when the tool fails, thanks to the exit gate.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { toolExitError, type ToolExit } from './tool-errors';
import { startTool, type ToolOptions } from './tool-process';

/** Size of the blocks {@link ExitGate} passes on. */
const GATE_BLOCK = 1024 * 1024;

/**
 * The pass-through behind {@link StreamingTool.exitGate}. It also gathers the pipe's small reads
 * (64 KiB) into blocks of {@link GATE_BLOCK}, so the stages downstream (checks, hash, file or
 * multipart writes) handle a few large chunks rather than many small ones.
 */
class ExitGate extends Transform {
  private parts: Buffer[] = [];
  private bytes = 0;

  /** @param failure resolves to the tool's error once it has exited (undefined for success). */
  constructor(private readonly failure: () => Promise<Error | undefined>) {
    super({ highWaterMark: 2 * GATE_BLOCK });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.parts.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= GATE_BLOCK) this.pushBlock();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes > 0) this.pushBlock();
    this.failure().then((error) => callback(error ?? null), callback);
  }

  private pushBlock(): void {
    this.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bytes));
    this.parts = [];
    this.bytes = 0;
  }
}

/** How long a stopped tool gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

/** A tool whose stdout is the product, see {@link spawnStreamingTool}. */
export interface StreamingTool {
  /** The tool's stdout. */
  readonly stdout: Readable;
  /**
   * A pass-through to put right after `stdout`: when the stream ends it waits for the tool to exit
   * and fails the stream unless it exited 0, so a writer that commits only a whole stream (the
   * spool's rename, the store's put) never commits the output of a failed tool.
   */
  readonly exitGate: Transform;
  /** Resolves (never rejects) when the tool has exited and its stderr is read. */
  readonly exited: Promise<ToolExit>;
  /** Stops the tool (SIGTERM, SIGKILL after a grace period) if it is still running, e.g. when the stream's consumer failed. */
  stop(): void;
}

/**
 * Starts a tool whose stdout is read by this process. Its stderr is kept for the error message and
 * fed line by line to `onStderrLine`. The tool's failure surfaces through
 * {@link StreamingTool.exitGate}, as `toolExitError` makes it.
 */
export function spawnStreamingTool(command: string, argv: readonly string[], options: ToolOptions): StreamingTool {
  const { child, exited } = startTool(command, argv, { stdin: 'ignore', stdout: 'pipe' }, options);
  const exitGate = new ExitGate(() => exited.then((exit) => toolExitError(options.errors, command, options.what, exit, options.fallbackCode)));
  return {
    stdout: child.stdout!,
    exitGate,
    exited,
    stop: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      kill.unref();
      void exited.then(() => clearTimeout(kill));
    },
  };
}
