/**
 * Small JSON state that outlives a process (a Lambda invocation, an SSM command, a CLI run): the
 * circuit breakers keep theirs here, in the store (`state/<key>.json`) or a local directory.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { STATE_ROOT } from '../catalog/layout';
import { PermanentError } from '../errors';
import { readJsonFile, writeFileAtomically } from '../io/json-file';
import type { BlobStore } from '../store/blob-store';

/** A tiny key → JSON store that survives the process. Keys are relative, slash-separated. */
export interface DurableState {
  /** The value last written under `key`, or undefined when there is none. */
  read(key: string): Promise<unknown | undefined>;
  write(key: string, value: unknown): Promise<void>;
}

const SAFE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

function checkKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new PermanentError(`invalid state key '${key}'`, { code: 'INVALID_STATE_KEY' });
}

/**
 * {@link DurableState} in a local directory: `<dir>/<key>.json`, written atomically (temp file + rename).
 *
 * @example
 * ```ts
 * const state = fileState(path.join(os.homedir(), '.dbbackup', 'state'));
 * ```
 */
export function fileState(dir: string): DurableState {
  const fileOf = (key: string) => {
    checkKey(key);
    return path.join(dir, `${key}.json`);
  };
  return {
    async read(key) {
      return readJsonFile(fileOf(key), z.unknown());
    },
    async write(key, value) {
      const file = fileOf(key);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomically(file, `${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

/**
 * {@link DurableState} in a blob store: `<prefix>/<key>.json` (so a breaker's state is at
 * `state/circuit-breakers/<target>.json`). A missing object reads as undefined.
 *
 * @example
 * ```ts
 * const breaker = new PersistentCircuitBreaker({ target: 'etcd/prod', state: blobStoreState(store), failureThreshold: 5, halfOpenAfterMs: 60_000 });
 * ```
 */
export function blobStoreState(store: Pick<BlobStore, 'url' | 'get' | 'put'>, prefix = STATE_ROOT): DurableState {
  const keyOf = (key: string) => {
    checkKey(key);
    return `${prefix}/${key}.json`;
  };
  return {
    async read(key) {
      const objectKey = keyOf(key);
      let body;
      try {
        body = await store.get(objectKey);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'NOT_FOUND') return undefined;
        throw error;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
      try {
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      } catch {
        throw new PermanentError(`state object ${objectKey} in ${store.url} is not valid JSON`, { code: 'STATE_CORRUPT' });
      }
    },
    async write(key, value) {
      await store.put(keyOf(key), JSON.stringify(value), { contentType: 'application/json' });
    },
  };
}
