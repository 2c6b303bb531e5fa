/** Environment settings: a typo in a variable fails loudly, naming what it accepts. */
import os from 'node:os';
import { defaultSpoolRoot, settingsFromEnv } from '../../../core/config/settings';

describe('settingsFromEnv', () => {
  it('reads the log level in any case, warn by default', () => {
    expect(settingsFromEnv({ DBBACKUP_LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    expect(settingsFromEnv({}).logLevel).toBe('warn');
  });

  it('refuses an unknown log level, naming the allowed ones', () => {
    expect(() => settingsFromEnv({ DBBACKUP_LOG_LEVEL: 'verbose' }))
      .toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: "DBBACKUP_LOG_LEVEL must be one of debug, info, warn, error; got 'verbose'" }));
  });

  it('refuses retry attempts that are not a whole number >= 1', () => {
    expect(settingsFromEnv({ DBBACKUP_RETRY_ATTEMPTS: '3' }).retryAttempts).toBe(3);
    expect(() => settingsFromEnv({ DBBACKUP_RETRY_ATTEMPTS: 'three' })).toThrow(/DBBACKUP_RETRY_ATTEMPTS must be a whole number/);
    expect(() => settingsFromEnv({ DBBACKUP_RETRY_ATTEMPTS: '0' })).toThrow(/DBBACKUP_RETRY_ATTEMPTS/);
  });
});

describe('the default spool', () => {
  it('is on disk, never the tmp dir: /var/lib/dbbackup/spool for root, the state directory for other users', () => {
    expect(defaultSpoolRoot({}, 0)).toBe('/var/lib/dbbackup/spool');
    expect(defaultSpoolRoot({ HOME: '/home/ana' }, 1000)).toBe('/home/ana/.local/state/dbbackup/spool');
    expect(defaultSpoolRoot({ HOME: '/home/ana', XDG_STATE_HOME: '/data/state' }, 1000)).toBe('/data/state/dbbackup/spool');
    expect(settingsFromEnv({ DBBACKUP_SPOOL_DIR: '/srv/spool' }).spoolRoot).toBe('/srv/spool');
    expect(settingsFromEnv({}).spoolRoot).not.toContain(os.tmpdir());
  });

  it('must be an absolute path when DBBACKUP_SPOOL_DIR names it (each process would resolve a relative one elsewhere)', () => {
    expect(() => settingsFromEnv({ DBBACKUP_SPOOL_DIR: 'spool' }))
      .toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: "DBBACKUP_SPOOL_DIR must be an absolute path (got 'spool')" }));
    expect(() => settingsFromEnv({ DBBACKUP_SPOOL_DIR: '/srv/../spool' })).toThrow(/DBBACKUP_SPOOL_DIR must not contain '\.\.' segments/);
  });
});
