/** The console logger's lines: JSON for machines, text for a person at a terminal. */
import { consoleLogger, logText } from '../../../core/logger';

describe('console logger', () => {
  let written: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    written = [];
    spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => spy.mockRestore());

  it('writes a JSON line per entry at or above its level', () => {
    // Act
    const logger = consoleLogger('warn');
    logger.info('not shown');
    logger.warn('mysql restore: left out views', { views: ['shop.v1', 'shop.v2'] });

    // Assess
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0])).toMatchObject({ level: 'warn', message: 'mysql restore: left out views', views: ['shop.v1', 'shop.v2'] });
  });

  it('writes a line of text per entry for a person, at its local time, its fields readable', () => {
    // Act
    consoleLogger('warn', 'text').warn('mysql backup: left out, holding an unfinished restore', { databases: ['a', 'b'], marker: '_m', count: 2, absent: undefined, views: [] });

    // Assess
    expect(written).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d dbbackup warning: mysql backup: left out, holding an unfinished restore \(databases: a, b; marker: _m; count: 2; views: none\)\n$/)]);
  });
});

describe('console logger for a terminal', () => {
  it('puts the progress bar away before each line it writes, not for entries below its level', () => {
    // Prepare
    const order: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      order.push(`line: ${String(chunk).trim()}`);
      return true;
    });

    // Act
    try {
      const logger = consoleLogger('warn', 'text', () => order.push('bar put away'));
      logger.debug('chunk 7 loaded');
      logger.warn('retrying');
    } finally {
      spy.mockRestore();
    }

    // Assess
    expect(order).toEqual(['bar put away', expect.stringMatching(/^line: \d\d:\d\d:\d\d dbbackup warning: retrying$/)]);
  });
});

describe('logText', () => {
  it('escapes control characters: a name from a database cannot split the line, move the cursor or retitle the terminal', () => {
    // Act
    const line = logText('warn', 'views the server cannot resolve', { views: ['esc.v\u001b]0;owned\u0007\u001b[2K\rdbbackup info: all good\nnext'] });

    // Assess
    expect(line).toBe('dbbackup warning: views the server cannot resolve (views: esc.v\\u001b]0;owned\\u0007\\u001b[2K\\u000ddbbackup info: all good\\nnext)');
    expect(line).not.toMatch(/[\u0000-\u001f]/);
  });

  it('names the level in words and shows other values as JSON', () => {
    // Act / Assess
    expect(logText('error', 'upload failed')).toBe('dbbackup error: upload failed');
    expect(logText('info', 'step returned', { ms: 12, detail: { rows: 3 } })).toBe('dbbackup info: step returned (ms: 12; detail: {"rows":3})');
  });
});
