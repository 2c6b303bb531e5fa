/**
 * The snapshot of one Docstore server (a node of the backup): every partition it holds, read in one
 * read view (the MySQL driver's consistent snapshot, its GTID and binlog position recorded) by all
 * of the view's connections at once — the schema table, each document table it describes and each
 * index table — dumped by the shared shard dump. Partitions on other servers are read at their own
 * points: there is no snapshot across partitions, and the record says so (`globalSnapshot: false`).
 */
import type { Connection } from 'mysql2/promise';
import type { ArtifactSink } from '../../core/driver/artifact-sink';
import type { BackupContext, JsonObject, SnapshotTaken } from '../../core/driver/types';
import { PermanentError } from '../../core/errors';
import { assertPlacement } from '../mysql/sharded/placement-check';
import { dumpShardTables } from '../mysql/sharded/shard-dump';
import { VALUE_ENCODING } from '../mysql/shared/column-codec';
import { describeServer, openDataConnection, openTextConnection, quoteId } from '../mysql/shared/connection';
import { openConsistentSnapshot } from '../mysql/shared/consistency';
import { refusingUnfinishedRestores } from '../mysql/sharded/shard-restore-marker';
import { toMysqlError } from '../mysql/shared/errors';
import { DIGEST_ALGORITHM } from '../mysql/shared/table-digest';
import { detectServerVersion } from '../mysql/shared/version';
import type { DocstoreConfig } from './config';
import { tableDefinitionSchema, type TableDefinition } from './layout';
import { ENGINE, type DocstoreConsistency, type DocstoreFacts, type TableRole } from './records';

/** The server of the config a node is. */
function serverOf(config: DocstoreConfig, node: string): DocstoreConfig['servers'][number] {
  const server = config.servers.find((s) => s.name === node);
  if (!server) throw new PermanentError(`node ${node} is not a server of this Docstore instance (${config.servers.map((s) => s.name).join(', ')})`, { code: 'INVALID_INPUT', engine: ENGINE });
  return server;
}

/**
 * The schema table of a partition, read in the view: definitions by table name, in the names' byte
 * order (not the server's collation, which another server may not share: the records of two
 * servers are compared as they are).
 */
export async function readDefinitions(view: Connection, database: string, schemaTable: string): Promise<Record<string, TableDefinition>> {
  const [rows] = await view.query({ sql: `SELECT table_name, definition FROM ${quoteId(database)}.${quoteId(schemaTable)}`, rowsAsArray: true });
  const definitions: Record<string, TableDefinition> = {};
  const byName = (rows as Array<[Buffer, unknown]>).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const [name, definition] of byName) {
    const table = name.toString('utf8');
    let parsed: unknown = definition; // mysql2 parses a column the server marks as JSON (MariaDB does); raw bytes otherwise
    try {
      if (Buffer.isBuffer(definition) || typeof definition === 'string') parsed = JSON.parse(definition.toString('utf8'));
    } catch {
      throw new PermanentError(`${database}.${schemaTable}: the definition of ${table} is not JSON`, { code: 'DOCSTORE_SCHEMA_INVALID', engine: ENGINE });
    }
    const checked = tableDefinitionSchema.safeParse(parsed);
    if (!checked.success) throw new PermanentError(`${database}.${schemaTable}: the definition of ${table} is invalid: ${checked.error.message}`, { code: 'DOCSTORE_SCHEMA_INVALID', engine: ENGINE });
    definitions[table] = checked.data;
  }
  return definitions;
}

/**
 * Refuses a server whose partitions' schema differs from the instance's first partition's, read on
 * that partition's own server (another node, outside this read view): a restore takes one schema
 * for every partition, so such a backup could never be restored (a schema change rolled out to
 * some servers only). Each node checks itself, so any difference fails the backup.
 * @throws PermanentError `DOCSTORE_SCHEMA_DIFFERS` naming both partitions
 */
async function assertOneSchema(config: DocstoreConfig, mine: DocstoreConfig['partitions'][number] | undefined, definitions: Record<string, TableDefinition>): Promise<void> {
  const first = [...config.partitions].sort((a, b) => a.partition - b.partition)[0];
  if (mine === undefined || first.server === mine.server) return; // nothing here, or compared in this server's read view already
  const server = serverOf(config, first.server);
  let connection: Connection;
  try {
    connection = await openTextConnection(server);
  } catch (error) {
    throw toMysqlError(error, `connecting to ${server.name} (${describeServer(server)}) to compare its schema table`, 'MYSQL_CONNECT_FAILED');
  }
  try {
    const reference = await readDefinitions(connection, first.database, config.schemaTable);
    if (JSON.stringify(reference) !== JSON.stringify(definitions)) {
      throw new PermanentError(
        `the schema table of partition ${mine.partition} (${mine.database} on ${mine.server}) differs from partition ${first.partition}'s (${first.database} on ${first.server}): a restore needs one schema for every partition, so finish the schema change on every server, then back up`,
        { code: 'DOCSTORE_SCHEMA_DIFFERS', engine: ENGINE },
      );
    }
  } catch (error) {
    throw toMysqlError(error, `reading the schema table of partition ${first.partition} on ${server.name}`, 'DOCSTORE_SCHEMA_INVALID');
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** Takes the snapshot of the server `ctx.node` names into `sink` (emptied by the caller). */
export async function takeServerSnapshot(ctx: BackupContext<DocstoreConfig>, sink: ArtifactSink): Promise<SnapshotTaken> {
  const { config, logger } = ctx;
  const server = serverOf(config, ctx.node.name);
  const partitions = config.partitions.filter((p) => p.server === server.name);
  let control: Connection;
  try {
    control = await openTextConnection(server);
  } catch (error) {
    throw toMysqlError(error, `connecting to ${server.name} (${describeServer(server)})`, 'MYSQL_CONNECT_FAILED');
  }
  const workers: Connection[] = [];
  try {
    for (let i = 0; i < config.parallelism; i += 1) workers.push(await openDataConnection(server));
    const version = await detectServerVersion(control);
    // Shard databases a restore into did not finish are refused where no restore can finish meanwhile.
    const whileLocked = refusingUnfinishedRestores(ENGINE, server.name, partitions.map((p) => p.database));
    const snapshot = await openConsistentSnapshot(control, workers, version, { nonTransactional: false, logger, whileLocked });
    await snapshot.release();
    const definitions: Record<string, TableDefinition> = {};
    for (const partition of partitions) {
      const found = await readDefinitions(workers[0], partition.database, config.schemaTable);
      if (partition !== partitions[0] && JSON.stringify(found) !== JSON.stringify(definitions)) {
        throw new PermanentError(`the schema table of partition ${partition.partition} (${partition.database}) differs from partition ${partitions[0].partition}'s: a backup needs one schema`, { code: 'DOCSTORE_SCHEMA_DIFFERS', engine: ENGINE });
      }
      Object.assign(definitions, found);
    }
    await assertOneSchema(config, partitions[0], definitions);
    await assertPlacement(control, partitions.flatMap((p) => Object.entries(definitions).flatMap(([table, definition]) => [
      { shard: p.partition, database: p.database, table, key: 'partition_key' },
      ...definition.indexes.map((index) => ({ shard: p.partition, database: p.database, table: index.table, key: 'index_key' })),
    ])), config.partitions.length, { shard: 'partition', engine: ENGINE }, logger);
    const tables = [
      { table: config.schemaTable, role: 'schema' as TableRole },
      ...Object.entries(definitions).flatMap(([table, definition]) => [
        { table, role: 'documents' as TableRole },
        ...definition.indexes.map((index) => ({ table: index.table, role: 'index' as TableRole })),
      ]),
    ];
    const dumped = await dumpShardTables<TableRole>(control, workers, partitions.map((p) => ({ number: p.partition, database: p.database, tables })),
      { sink, chunkRows: config.chunkRows, logger, signal: ctx.signal, engine: ENGINE, server: server.name });
    const facts: DocstoreFacts = {
      partitionCount: config.partitions.length,
      schemaTable: config.schemaTable,
      definitions,
      partitions: partitions.map((p) => ({ partition: p.partition, database: p.database, tables: dumped.shards.get(p.partition)! })),
      digestAlgorithm: DIGEST_ALGORITHM,
      valueEncoding: VALUE_ENCODING,
    };
    const consistency: DocstoreConsistency = {
      ...snapshot.consistency,
      partitions: partitions.map((p) => ({ partition: p.partition, database: p.database })),
      globalSnapshot: false,
    };
    logger.info('docstore backup: server done', { server: server.name, partitions: partitions.length, documents: facts.partitions.flatMap((p) => p.tables).filter((t) => t.role === 'documents').reduce((n, t) => n + t.rows, 0) });
    return { artifacts: dumped.artifacts, consistency: consistency as unknown as JsonObject, facts: facts as unknown as JsonObject };
  } catch (error) {
    throw toMysqlError(error, `backing up Docstore server ${server.name}`, 'DOCSTORE_BACKUP_FAILED');
  } finally {
    await Promise.all([...workers, control].map((c) => c.end().catch(() => undefined)));
  }
}
