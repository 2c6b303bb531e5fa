/**
 * Two tools joined by a pipe, `reader | … | writer` (`mariadb-binlog … | mariadb`), with streams of
 * our own in between to watch what passes. The writer sees the end of its input only once the
 * reader has exited 0 (the reader's exit gate), so a failed reader never lets the writer finish on
 * a partial input.
 */
import { pipeline, type Readable, type Transform } from 'node:stream';
import { runTool } from './run-tool';
import { spawnStreamingTool } from './streaming-tool';
import type { ToolOptions } from './tool-process';

/** One end of the pipe. */
export interface PipeEnd {
  command: string;
  argv: readonly string[];
  /** Short description for errors, e.g. `mariadb (applying the replay)`. */
  what: string;
  /** Its own environment (e.g. its own credentials), instead of the pipe's. */
  env?: NodeJS.ProcessEnv;
}

export interface ToolPipeOptions extends Omit<ToolOptions, 'what' | 'onStderrLine'> {
  /** Streams the reader's output passes through on its way to the writer (they may watch it). */
  through?: Transform[];
}

/**
 * Runs `reader | through… | writer` to completion.
 * @throws the writer's failure first (when it stops, the reader is stopped as a consequence), else
 *   the reader's failure, each as `toolExitError` makes it.
 */
export async function runToolPipe(reader: PipeEnd, writer: PipeEnd, options: ToolPipeOptions): Promise<void> {
  const { errors, env, signal, fallbackCode } = options;
  const source = spawnStreamingTool(reader.command, reader.argv, { errors, env: reader.env ?? env, signal, fallbackCode, what: reader.what });
  // pipeline() destroys every stage when one fails: the reader's failure reaches the writer as a failed input.
  const through = options.through ?? [];
  pipeline([source.stdout, source.exitGate, ...through], () => { /* the writer's run reports it */ });
  const input: Readable = through.at(-1) ?? source.exitGate;
  try {
    await runTool(writer.command, writer.argv, { errors, env: writer.env ?? env, signal, fallbackCode, what: writer.what, stdin: input });
  } finally {
    source.stop();
    await source.exited;
  }
}
