/**
 * The zstd addon (`zstd-napi`), loaded on first use — never by merely loading a module that may
 * need it, so a host or function whose platform the addon was not built for fails only where zstd
 * is used, saying so (`ZSTD_UNAVAILABLE`).
 */
import { PermanentError } from '../errors';

type Zstd = typeof import('zstd-napi');
let loaded: Zstd | undefined;

/**
 * The zstd addon, loaded on first use; `purpose` names what needs it in the error.
 * @throws PermanentError `ZSTD_UNAVAILABLE` when it cannot load on this platform
 */
export function zstd(purpose = 'compression'): Zstd {
  if (loaded) return loaded;
  try {
    loaded = require('zstd-napi') as Zstd;
    return loaded;
  } catch (error) {
    throw new PermanentError(
      `zstd (the zstd-napi addon, for ${purpose}) cannot load on ${process.platform}-${process.arch}: ${(error as Error).message}; it is built where dbbackup is installed or bundled (run npm rebuild zstd-napi there, on this platform)`,
      { code: 'ZSTD_UNAVAILABLE', cause: error },
    );
  }
}

/** The addon's low-level functions (frame sizes), once {@link zstd} loaded it. */
export function zstdBinding(purpose?: string): typeof import('zstd-napi/binding') {
  zstd(purpose);
  return require('zstd-napi/binding') as typeof import('zstd-napi/binding');
}
