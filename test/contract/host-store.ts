/**
 * Stores as the contract suite's hosts see them. {@link hostStore}: as a database host may use it
 * in AWS (infra/host-policies.ts) — it reads and writes, but never deletes (NeverDeleteBackups: no
 * host deletes anything) and never writes a backup's manifest or verification record
 * (NeverCompleteBackups) — so what only works with delete rights on the host fails here as it would
 * in AWS. {@link guardedWrites}: any rule on writes (the crashing runner's "dies while writing").
 */
import { PermanentError } from '../../core/errors';
import type { BlobStore } from '../../core/store/blob-store';

const COMPLETING = /^backups\/.+\/(manifest|verification)\.json$/;

/** What a guard may refuse: a write to `key` (put or putFile), and a delete of `keys`. */
export interface WriteGuard {
  put?(key: string): void;
  delete?(keys: string[]): void;
}

/** `store`, with `guard` asked before every write and delete (it throws to refuse). */
export function guardedWrites(store: BlobStore, guard: WriteGuard): BlobStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if ((property === 'put' || property === 'putFile') && guard.put) {
        return (key: string, ...rest: unknown[]) => {
          guard.put!(key);
          return (value as (...args: unknown[]) => unknown).call(target, key, ...rest);
        };
      }
      if (property === 'delete' && guard.delete) {
        return (keys: string[]) => {
          guard.delete!(keys);
          return (value as (keys: string[]) => unknown).call(target, keys);
        };
      }
      return value.bind(target);
    },
  });
}

function accessDenied(what: string): PermanentError {
  return new PermanentError(`access denied: a database host may not ${what} (contract suite, as the host's IAM policy)`, { code: 'ACCESS_DENIED' });
}

export function hostStore(store: BlobStore): BlobStore {
  return guardedWrites(store, {
    put(key) {
      if (COMPLETING.test(key)) throw accessDenied(`write ${key}`);
    },
    delete(keys) {
      if (keys.length > 0) throw accessDenied(`delete ${keys[0]}`);
    },
  });
}
