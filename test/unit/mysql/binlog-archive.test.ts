/** The binlog archive's pure parts: tool choice, file ordering and the fetch argv. */
import { binlogSequence, binlogTool, fetchBinlogsArgv, sortBinlogs } from '../../../drivers/mysql/point-in-time/binlog-archive';

describe('binlog archive', () => {
  it('orders binlog files by sequence number, not text', () => {
    // Act
    const sorted = sortBinlogs(['binlog.1000000', 'binlog.000010', 'binlog.000009']);

    // Assess
    expect(sorted).toEqual(['binlog.000009', 'binlog.000010', 'binlog.1000000']);
    expect(binlogSequence('mysql-bin.000042')).toBe(42);
    expect(() => binlogSequence('binlog.index')).toThrow(/not a binary log file name/);
  });

  it('uses mariadb-binlog for MariaDB (mysqlbinlog as a fallback) and mysqlbinlog for MySQL', () => {
    // Assess
    expect(binlogTool('mariadb', () => true)).toBe('mariadb-binlog');
    expect(binlogTool('mariadb', (c) => c === 'mysqlbinlog')).toBe('mysqlbinlog');
    expect(binlogTool('mysql', () => true)).toBe('mysqlbinlog');
    expect(() => binlogTool('mysql', () => false)).toThrow(/mysqlbinlog is not installed/);
  });

  it('fetches raw from the oldest file to the end of the last, credentials in the option file', () => {
    // Act
    const argv = fetchBinlogsArgv('/tmp/c/client.cnf', 'binlog.000001', '/spool/.binlog-fetch');

    // Assess
    expect(argv).toEqual([
      '--defaults-file=/tmp/c/client.cnf', '--read-from-remote-server', '--raw', '--to-last-log', '--result-file=/spool/.binlog-fetch/', 'binlog.000001',
    ]);
  });
});
