/**
 * One schema for every partition: a Docstore backup whose servers' snapshots read different schema
 * tables is refused when it is finalized (the backup driver's `checkNodes`), and a backup recorded
 * so (by a version before that check) is refused by the restore's plan, before anything is written.
 */
import type { BackupRecord } from '../../../core/driver/types';
import { nodeRecords } from '../../../core/catalog/manifest';
import docstore from '../../../drivers/docstore';
import { planRestore } from '../../../drivers/docstore/restore-plan';
import type { DocstoreFacts } from '../../../drivers/docstore/records';
import type { TableDefinition } from '../../../drivers/docstore/layout';

const trips: TableDefinition = { partitionKey: 'rider_id', sortKey: 'trip_id', columns: [{ name: 'city', type: 'string' }], indexes: [{ table: 'trips_by_city', column: 'city' }] };

function facts(partition: number, definitions: Record<string, TableDefinition>): DocstoreFacts {
  const database = `ds_${partition}`;
  const table = (name: string, role: 'schema' | 'documents' | 'index') => ({
    database, table: name, engine: 'InnoDB', rows: 0, digest: '0'.repeat(32), chunks: [`data/${database}/${name}/000000.tsv.zst`], role, ddl: `CREATE TABLE ${name} (...)`,
  });
  return {
    partitionCount: 2, schemaTable: 'docstore_schema', definitions, digestAlgorithm: 'x', valueEncoding: 'exact',
    partitions: [{ partition, database, tables: [table('docstore_schema', 'schema'), table('trips', 'documents'), table('trips_by_city', 'index')] }],
  };
}

/** A backup of two servers, one partition each, whose snapshots read these definitions; and, asked, a third that holds no partition (a spare). */
function backup(first: Record<string, TableDefinition>, second: Record<string, TableDefinition>, spare = false): BackupRecord {
  const nodes: Record<string, DocstoreFacts> = { ...(spare ? { 'ds-0': { ...facts(0, {}), partitions: [] } } : {}), 'ds-1': facts(0, first), 'ds-2': facts(1, second) };
  const artifacts = Object.entries(nodes).flatMap(([node, f]) => f.partitions.flatMap((p) => p.tables.flatMap((t) => t.chunks)).map((name) => ({
    name: `${node}/${name}`, key: `backups/b1/data/${node}/${name}`, size: 1, sha256: 'a'.repeat(64),
  })));
  return { backupId: 'b1', engine: 'docstore', instance: 'i', consistency: { nodes: Object.fromEntries(Object.keys(nodes).map((n) => [n, {}])) }, facts: { nodes }, artifacts };
}

const withoutIndex = { trips: { ...trips, indexes: [] } };

it('finalizes servers that read one schema (a spare server without partitions read none), and refuses servers whose snapshots read different ones, naming both', () => {
  const check = (record: BackupRecord) => () => docstore.backup!.checkNodes!(nodeRecords(record));

  expect(check(backup({ trips }, { trips }))).not.toThrow();
  expect(check(backup({ trips }, { trips }, true))).not.toThrow(); // a server without partitions read no schema table
  expect(check(backup({ trips }, withoutIndex))).toThrow(expect.objectContaining({
    code: 'DOCSTORE_SCHEMA_DIFFERS', message: expect.stringContaining("the schema table ds-2's snapshot read differs from the one ds-1's read"),
  }));
});

it('plans a restore of servers that read one schema (a spare passed over), and refuses one whose servers read different schemas, naming both', () => {
  expect(planRestore(backup({ trips }, { trips })).partitions.map((p) => p.shard)).toEqual([0, 1]);
  expect(planRestore(backup({ trips }, { trips }, true))).toMatchObject({ definitions: { trips }, partitions: [{ shard: 0 }, { shard: 1 }] });
  expect(() => planRestore(backup({ trips }, withoutIndex))).toThrow(expect.objectContaining({
    code: 'DOCSTORE_SCHEMA_DIFFERS', message: expect.stringContaining('the schema table on ds-2 differs from ds-1'),
  }));
});
