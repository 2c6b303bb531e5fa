/**
 * Why a folder cannot be written, in words, from the file-system error that said so: what the
 * store's and the spool's errors tell a user instead of a bare code.
 */

/** `is on a read-only file system`, …; undefined for an error that does not say the folder is unwritable. */
export function unwritableBecause(code: unknown): string | undefined {
  switch (code) {
    case 'EROFS': return 'is on a read-only file system';
    case 'EACCES':
    case 'EPERM': return 'is not writable by this user';
    case 'ENOTDIR': return 'is under a file, not a folder';
    default: return undefined;
  }
}
