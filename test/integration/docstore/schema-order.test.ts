/**
 * A Docstore schema table is read in the names' byte order, whatever its collation: two servers
 * whose schema tables sort names differently (a case-insensitive collation on one) record the same
 * schema, so the cross-server comparison does not refuse them (real MariaDB).
 */
import { readDefinitions } from '../../../drivers/docstore/server-snapshot';
import { SAMPLE_SCHEMA } from '../../../drivers/docstore/sample-store';
import { startTestMariaDb, stopAllMariaDb, usingConnection, type TestMariaDb } from '../../harness/mariadb';

let server: TestMariaDb;

beforeAll(async () => {
  server = await startTestMariaDb('docstore-schema-order', 21);
}, 120_000);

afterAll(() => stopAllMariaDb());

it('reads the definitions in the same order from a binary and a case-insensitive schema table', async () => {
  // Prepare: the same three definitions in two schema tables, one per collation
  const definition = JSON.stringify(SAMPLE_SCHEMA.trips);
  const read = await usingConnection(server.connect(), async (c) => {
    for (const [database, collation] of [['by_bytes', 'utf8mb4_bin'], ['by_letters', 'utf8mb4_general_ci']]) {
      await c.query(`CREATE DATABASE ${database}`);
      await c.query(`CREATE TABLE ${database}.docstore_schema (table_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL PRIMARY KEY, definition JSON NOT NULL)`);
      await c.query(`INSERT INTO ${database}.docstore_schema VALUES ('riders', ?), ('Zones', ?), ('trips', ?)`, [definition, definition, definition]);
    }

    // Act
    return [await readDefinitions(c, 'by_bytes', 'docstore_schema'), await readDefinitions(c, 'by_letters', 'docstore_schema')];
  });

  // Assess
  expect(Object.keys(read[0])).toEqual(['Zones', 'riders', 'trips']);
  expect(JSON.stringify(read[1])).toBe(JSON.stringify(read[0]));
}, 120_000);
