/**
 * What an external tool printed on stderr, kept for the error message: the last lines, plus every
 * line that names an error (a tool's first complaint is often far above its last lines), with the
 * secrets a tool may echo redacted.
 */

/** Lines that name a failure, kept even when they scroll out of the tail. */
const ERROR_LINE = /error|denied|missing required privilege|failed|invalid|corrupt|can't|cannot/i;

/** Keeps a tool's stderr for error messages: the last lines, plus every line that names an error. */
export class StderrLog {
  private readonly tail: string[] = [];
  private readonly errors: string[] = [];
  private partial = '';

  /**
   * @param onLine gets every whole line as the tool printed it (unredacted: a caller may parse it)
   * @param keep how many of the last lines to keep
   */
  constructor(private readonly onLine?: (line: string) => void, private readonly keep = 40) {}

  /** Feeds a chunk of stderr. */
  write(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.add(line);
  }

  /** Flushes the last unterminated line. */
  end(): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
  }

  private add(raw: string): void {
    const line = redactSecrets(raw);
    this.tail.push(line);
    if (this.tail.length > this.keep) this.tail.shift();
    if (ERROR_LINE.test(line) && this.errors.length < 20) this.errors.push(line);
    // Last: what the callback does (abort the step, say) already finds the line in the log.
    this.onLine?.(raw);
  }

  /** Error lines first, then the tail, without duplicates; bounded in size. */
  text(max = 4000): string {
    const lines = [...this.errors, ...this.tail.filter((l) => !this.errors.includes(l))];
    const joined = lines.join('\n').trim();
    return joined.length <= max ? joined : `${joined.slice(0, max)}…`;
  }
}

/**
 * Hides password hashes and passwords a tool may echo (mariabackup prints `SHOW GRANTS` when a
 * privilege is missing: `IDENTIFIED BY PASSWORD '*94BD…'`, `IDENTIFIED VIA ed25519 USING '…'`).
 */
export function redactSecrets(line: string): string {
  return line.replace(/\b(PASSWORD|USING|IDENTIFIED BY)(\s*\(?\s*)'(?:[^'\\]|\\.)*'/gi, "$1$2'<redacted>'");
}
