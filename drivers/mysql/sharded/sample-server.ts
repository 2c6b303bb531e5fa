/**
 * The throwaway local servers of the sharded stores' samples (demos, kits, tests, benchmarks):
 * root without a password, statements run on a short-lived connection.
 */
import { createConnection, type Connection } from 'mysql2/promise';

/** A server of a sample store. */
export interface SampleServer {
  name: string;
  host: string;
  port: number;
}

/** Runs `fn` with a connection to `server` (multiple statements allowed), always closed. */
export async function withServer<T>(server: { host: string; port: number; user: string; password?: string }, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await createConnection({ host: server.host, port: server.port, user: server.user, password: server.password, multipleStatements: true });
  try {
    return await fn(connection);
  } finally {
    await connection.end();
  }
}
