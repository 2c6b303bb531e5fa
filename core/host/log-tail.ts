/** The end of a server's log, for the error that says why it did not start. */
import { readFile } from 'node:fs/promises';

/** The last `lines` lines of `file`, or a note that it cannot be read. */
export async function logTail(file: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(log ${file} unreadable: ${(error as Error).message})`;
  }
}

/** `logTail` as a message suffix: a header naming the file, then its last lines. */
export async function logTailNote(file: string, lines = 20): Promise<string> {
  return `\n--- last lines of ${file} ---\n${await logTail(file, lines)}`;
}
