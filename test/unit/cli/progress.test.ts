/** The progress bar on a terminal: drawn once a transfer lasts, and put away so a log line is never written under a frame. */
import { Writable } from 'node:stream';
import { progressReporter } from '../../../bin/progress';

/** A terminal stand-in: what is written to it, in order (readline writes cursor moves and line clears as escape sequences). */
function fakeTerminal(): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _encoding, done) { written.push(chunk.toString()); done(); } }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 100 });
  return { stream, written };
}

describe('progressReporter', () => {
  it('draws the bar, and when put away (a log line to write) clears its line rather than leave a frame above the next one; the next report draws it again', () => {
    // Prepare
    const { stream, written } = fakeTerminal();
    const report = progressReporter(true, stream, 0);

    // Act
    report('upload', 25, 100);
    report.stop();
    const putAway = written.join('');
    report('upload', 50, 100);
    report.stop();

    // Assess
    expect(putAway).toContain('upload   [');
    expect(putAway).toContain('25%');
    expect(putAway.endsWith('\u001b[2K')).toBe(true); // the line cleared …
    expect(putAway.slice(putAway.lastIndexOf('25%'))).not.toContain('\n'); // … not ended with a newline under the frame
    expect(written.join('').slice(putAway.length)).toContain('50%');
  });

  it('draws nothing when not on a terminal (enabled false) or before a transfer has lasted a moment', () => {
    // Prepare
    const { stream, written } = fakeTerminal();

    // Act
    progressReporter(false, stream, 0)('upload', 1, 2);
    progressReporter(true, stream, 60_000)('upload', 1, 2);

    // Assess
    expect(written).toEqual([]);
  });
});
