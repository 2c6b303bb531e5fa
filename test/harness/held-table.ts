/**
 * An empty table created on a test server and held by an open transaction that read it, with the
 * server's `lock_wait_timeout` at 1 s: a restore's DROP of that table then times out once writing
 * began (a sharded restore failing part way). `release` commits and puts the timeout back.
 */
import type { Connection } from 'mysql2/promise';
import { quoteId } from '../../drivers/mysql/shared/connection';

export interface HeldTable {
  release(): Promise<void>;
  /** Releases (once) and closes the holding connection. */
  end(): Promise<void>;
}

export async function holdEmptyTable(holder: Connection, database: string, table: string): Promise<HeldTable> {
  await holder.query(`CREATE DATABASE ${quoteId(database)}`);
  await holder.query(`CREATE TABLE ${quoteId(database)}.${quoteId(table)} (id INT)`);
  await holder.query('START TRANSACTION');
  await holder.query(`SELECT * FROM ${quoteId(database)}.${quoteId(table)}`);
  await holder.query('SET GLOBAL lock_wait_timeout = 1');
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await holder.query('COMMIT');
    await holder.query('SET GLOBAL lock_wait_timeout = DEFAULT');
  };
  return { release, end: async () => { await release(); await holder.end(); } };
}
