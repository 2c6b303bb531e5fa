/**
 * Applying schema statements on a real MariaDB 10.11 server: the pre-schema creates the database
 * under its target name and calls the hook before any table exists, its tables over several
 * connections in the session the file gives each (foreign keys after the others); post-schema statements whose
 * dependencies come later are retried after the others, with the session settings they were
 * written under; what can never succeed fails naming the statement.
 */
import type { Connection } from 'mysql2/promise';
import { applyPreSchema, applyStatements, finishDeferred } from '../../../drivers/mysql/logical/schema-apply';
import { openSchemaConnection } from '../../../drivers/mysql/shared/target-connection';
import { startTestMariaDb, stopAllMariaDb, type TestMariaDb } from '../../harness/mariadb';

let server: TestMariaDb;
let schema: Connection;

beforeAll(async () => {
  server = await startTestMariaDb('schema-apply', 8);
  schema = await openSchemaConnection({ ...server.config(), connectTimeoutMs: 5_000 });
}, 60_000);

afterAll(async () => {
  await schema?.end();
  await stopAllMariaDb();
});

async function tablesOf(database: string): Promise<string[]> {
  const [rows] = await schema.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [database]) as [Array<{ name: string }>, unknown];
  return rows.map((r) => r.name);
}

describe('applyPreSchema', () => {
  it('creates the database under its target name, calls the hook before the tables, then creates them', async () => {
    // Prepare
    const statements = [
      'CREATE DATABASE `app` /*!40100 DEFAULT CHARACTER SET latin1 */',
      'CREATE TABLE `t` (`id` int(11) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB',
      'CREATE TABLE `u` (`t_id` int(11) NOT NULL, CONSTRAINT `fk` FOREIGN KEY (`t_id`) REFERENCES `t` (`id`)) ENGINE=InnoDB',
    ];
    let seenByHook: string[] | undefined;

    // Act
    await applyPreSchema(schema, statements, { source: 'app', target: 'app_copy' }, { databases: { app: 'app_copy' } }, async () => {
      seenByHook = await tablesOf('app_copy');
    });

    // Assess
    expect(seenByHook).toEqual([]);
    expect(await tablesOf('app_copy')).toEqual(['t', 'u']);
    expect(await tablesOf('app')).toEqual([]);
    const [[db]] = await schema.query("SELECT DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'app_copy'") as [Array<{ cs: string }>, unknown];
    expect(db.cs).toBe('latin1');
  });

  it('creates the sequences before the tables, which may take defaults from them, whatever order the file lists them in (older backups: by name)', async () => {
    // Prepare
    const statements = [
      'CREATE DATABASE `seqs`',
      'CREATE TABLE `a_usesseq` (`id` int(11) NOT NULL DEFAULT nextval(`seqs`.`s_def`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
      'CREATE SEQUENCE `s_def` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 nocache nocycle ENGINE=InnoDB',
      'DO SETVAL(`s_def`, 7, 0)',
    ];

    // Act
    await applyPreSchema(schema, statements, { source: 'seqs', target: 'seqs' }, { databases: {} }, async () => undefined);

    // Assess
    await schema.query('INSERT INTO seqs.a_usesseq () VALUES ()');
    expect((await schema.query('SELECT id FROM seqs.a_usesseq') as [unknown[], unknown])[0]).toEqual([{ id: 7 }]);
  });

  it('over several connections, runs every table in the session its file gives it, tables with foreign keys after the others', async () => {
    // Prepare: a session setting half-way through the file, and a foreign key to a table created in parallel
    const lanes = [await openSchemaConnection({ ...server.config(), connectTimeoutMs: 5_000 }), await openSchemaConnection({ ...server.config(), connectTimeoutMs: 5_000 })];
    const table = (name: string) => `CREATE TABLE \`${name}\` (\`id\` int(11) NOT NULL, PRIMARY KEY (\`id\`))`;
    const statements = [
      'CREATE DATABASE `lanes`',
      ...['a1', 'a2', 'a3', 'a4', 'a5'].map(table),
      "SET default_storage_engine = 'Aria'",
      ...['b1', 'b2', 'b3', 'b4', 'b5'].map(table),
      'CREATE TABLE `c` (`a_id` int(11) NOT NULL, CONSTRAINT `fk_a` FOREIGN KEY (`a_id`) REFERENCES `a5` (`id`)) ENGINE=InnoDB',
    ];

    // Act
    await applyPreSchema(schema, statements, { source: 'lanes', target: 'lanes' }, { databases: {} }, async () => undefined, lanes);

    // Assess
    const [engines] = await schema.query("SELECT TABLE_NAME AS name, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'lanes' ORDER BY 1") as [Array<{ name: string; engine: string }>, unknown];
    expect(engines.map((t) => `${t.name}:${t.engine}`)).toEqual([
      'a1:InnoDB', 'a2:InnoDB', 'a3:InnoDB', 'a4:InnoDB', 'a5:InnoDB', 'b1:Aria', 'b2:Aria', 'b3:Aria', 'b4:Aria', 'b5:Aria', 'c:InnoDB',
    ]);
    const [fks] = await schema.query("SELECT REFERENCED_TABLE_NAME AS parent FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'lanes'") as [Array<{ parent: string }>, unknown];
    expect(fks).toEqual([{ parent: 'a5' }]);
    await Promise.all(lanes.map((lane) => lane.end()));
  });

  it('over several connections, fails naming the statement that failed, once every lane has stopped', async () => {
    // Prepare
    const lanes = [await openSchemaConnection({ ...server.config(), connectTimeoutMs: 5_000 })];
    const statements = ['CREATE DATABASE `broken_lanes`', 'CREATE TABLE `ok1` (`id` int)', 'CREATE TABLE `bad` (`id` nosuchtype)', 'CREATE TABLE `ok2` (`id` int)'];

    // Act
    const applying = applyPreSchema(schema, statements, { source: 'broken_lanes', target: 'broken_lanes' }, { databases: {} }, async () => undefined, lanes);

    // Assess
    await expect(applying).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_SCHEMA_FAILED', message: expect.stringContaining('statement failed (CREATE TABLE `bad`') });
    const [[idle]] = await lanes[0].query('SELECT 1 AS one') as [Array<{ one: number }>, unknown];
    expect(idle.one).toBe(1);
    await lanes[0].end();
  });
});

describe('applyStatements / finishDeferred', () => {
  it('retries a view whose dependency comes later, under the sql_mode it was written with', async () => {
    // Prepare
    await schema.query('CREATE DATABASE post1; CREATE TABLE post1.base (x INT); INSERT INTO post1.base VALUES (1), (2)');
    const statements = [
      "SET SESSION sql_mode = 'ANSI_QUOTES'",
      'CREATE VIEW "later_user" AS SELECT "x" FROM "defined_later"',
      "SET SESSION sql_mode = ''",
      'CREATE VIEW `defined_later` AS SELECT `x` FROM `base`',
    ];

    // Act
    const pending = await applyStatements(schema, statements, { database: 'post1', renames: { databases: {} }, where: 'test' });
    await finishDeferred(schema, pending);

    // Assess
    expect(pending).toHaveLength(1);
    const [rows] = await schema.query('SELECT x FROM post1.later_user ORDER BY x') as [Array<{ x: number }>, unknown];
    expect(rows).toEqual([{ x: 1 }, { x: 2 }]);
  });

  it('fails naming the statement when it can never succeed', async () => {
    // Prepare
    await schema.query('CREATE DATABASE post2');

    // Act
    const broken = applyStatements(schema, ['CREATE VIEW v AS SELEC 1'], { database: 'post2', renames: { databases: {} }, where: 'post-schema of post2' });
    const orphan = applyStatements(schema, ['CREATE VIEW v AS SELECT * FROM nowhere'], { database: 'post2', renames: { databases: {} }, where: 'post-schema of post2' })
      .then((pending) => finishDeferred(schema, pending));

    // Assess
    await expect(broken).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_SCHEMA_FAILED', message: expect.stringContaining('post-schema of post2: statement failed (CREATE VIEW v AS SELEC 1)') });
    await expect(orphan).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_SCHEMA_FAILED', message: expect.stringMatching(/^post-schema of post2: statement failed \(CREATE VIEW v AS SELECT \* FROM nowhere\).*nowhere/) });
  });
});
