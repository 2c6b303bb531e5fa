/**
 * How long an index key an index table holds, read from the table as the target has it (created
 * from the source's own definition: `VARBINARY(255)` in the reference layouts, whatever a store
 * chose otherwise). A longer key has no entry: a strict server refuses one, as the source's did,
 * and a repair that wrote one would store it cut short, pointing nowhere.
 */
import { format } from 'mysql2/promise';
import { quoteId } from '../shared/connection';
import { ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE, errnoOf } from '../shared/errors';
import type { ShardConnection } from './derived-index';

/** The most a key column holds: bytes (a binary string type) or characters (a text one); neither when unknown. */
export interface KeyLimit {
  bytes?: number;
  characters?: number;
}

/** The limit of `column` of `table` in `source`'s database; none when the table is not there or the type has no length. */
export async function keyLimitOf(source: ShardConnection, table: string, column: string): Promise<KeyLimit> {
  let rows: unknown;
  try {
    [rows] = await source.connection.query({ sql: format(`SHOW COLUMNS FROM ${quoteId(source.database)}.${quoteId(table)} LIKE ?`, [column]), rowsAsArray: true });
  } catch (error) {
    if (errnoOf(error) === ER_NO_SUCH_TABLE || errnoOf(error) === ER_BAD_DB_ERROR) return {};
    throw error;
  }
  const type = String((rows as unknown[][])[0]?.[1] ?? '');
  const [, kind, length] = /^(?:var)?(binary|char)\((\d+)\)/i.exec(type) ?? [];
  if (!kind) return {};
  return kind.toLowerCase() === 'binary' ? { bytes: Number(length) } : { characters: Number(length) };
}

/** Whether `key` (UTF-8 bytes) fits `limit`. */
export function fitsKey(key: Uint8Array, limit: KeyLimit): boolean {
  if (limit.bytes !== undefined && key.length > limit.bytes) return false;
  if (limit.characters !== undefined && key.length > limit.characters) {
    return [...Buffer.from(key.buffer, key.byteOffset, key.length).toString('utf8')].length <= limit.characters;
  }
  return true;
}
