/**
 * Lines of a file as byte buffers, exactly as stored (no decoding, so a hash of the lines is a hash
 * of the bytes), with a bound on a line's length so that a corrupt file without newlines cannot
 * fill memory.
 */
import { createReadStream } from 'node:fs';

/** One line without its `\n`; `terminated` is false only for a last line the file ends inside. */
export interface RawLine {
  bytes: Buffer;
  terminated: boolean;
}

/**
 * Reads `file` line by line.
 * @param onTooLong builds the error thrown when a line grows past `maxLineBytes`
 */
export async function* fileLines(file: string, maxLineBytes: number, onTooLong: (lineNumber: number) => Error): AsyncGenerator<RawLine> {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let lineNumber = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let newline = chunk.indexOf(0x0a, from); newline !== -1; newline = chunk.indexOf(0x0a, from)) {
      const piece = chunk.subarray(from, newline);
      lineNumber += 1;
      if (partialBytes + piece.length > maxLineBytes) throw onTooLong(lineNumber);
      yield { bytes: partial.length === 0 ? piece : Buffer.concat([...partial, piece]), terminated: true };
      partial = [];
      partialBytes = 0;
      from = newline + 1;
    }
    if (from < chunk.length) {
      partial.push(chunk.subarray(from));
      partialBytes += chunk.length - from;
      if (partialBytes > maxLineBytes) throw onTooLong(lineNumber + 1);
    }
  }
  if (partialBytes > 0) yield { bytes: Buffer.concat(partial), terminated: false };
}
