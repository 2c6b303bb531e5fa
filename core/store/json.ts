/**
 * Small JSON documents (manifests, indexes) in a blob store.
 */
import { PermanentError } from '../errors';
import type { BlobStore, PutResult } from './blob-store';

/**
 * Reads and parses the JSON object at `key`; undefined when it does not exist.
 * Throws PermanentError `INVALID_JSON` (naming the key) when it is not valid JSON.
 */
export async function readJson<T = unknown>(store: BlobStore, key: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readText(store, key);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'NOT_FOUND') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new PermanentError(`object ${key} in ${store.url} is not valid JSON: ${why}`, { code: 'INVALID_JSON', cause: error });
  }
}

/** Writes `value` as pretty-printed JSON to `key` (atomically, like every put). */
export function writeJson(store: BlobStore, key: string, value: unknown): Promise<PutResult> {
  return store.put(key, `${JSON.stringify(value, null, 2)}\n`, { contentType: 'application/json' });
}

async function readText(store: BlobStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
