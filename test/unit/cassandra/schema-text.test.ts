/** CQL text from cassandra-driver metadata (drivers/cassandra/cql-text.ts, schema-text.ts), on metadata shaped as 2.1 reports it. */
import { types } from 'cassandra-driver';
import { cqlType, quoteIdentifier } from '../../../drivers/cassandra/cql-text';
import { indexCql, keyspaceCql, type TableMetadataLike } from '../../../drivers/cassandra/schema-text';
import { indexNameOf, tableDirName } from '../../../drivers/cassandra/schema-cql';

const { dataTypes } = types;
const text = { code: dataTypes.varchar };
const int = { code: dataTypes.int };

describe('quoteIdentifier', () => {
  it.each([
    ['items', 'items'], ['sensorId', '"sensorId"'], ['select', '"select"'], ['token', '"token"'], ['2fa', '"2fa"'], ['say "hi"', '"say ""hi"""'],
  ])('writes %s as %s', (name, expected) => {
    expect(quoteIdentifier(name)).toBe(expected);
  });
});

describe('cqlType', () => {
  it('writes collections, frozen where the driver says so, and tuples always frozen', () => {
    expect(cqlType({ code: dataTypes.map, info: [{ code: dataTypes.timestamp }, { code: dataTypes.varint }] })).toBe('map<timestamp, varint>');
    expect(cqlType({ code: dataTypes.list, info: { code: dataTypes.tuple, info: [int, text] } })).toBe('list<frozen<tuple<int, text>>>');
    expect(cqlType({ code: dataTypes.set, info: int, options: { frozen: true } })).toBe('frozen<set<int>>');
    expect(cqlType({ code: dataTypes.counter })).toBe('counter');
    expect(cqlType({ code: dataTypes.custom, info: 'org.example.MyType' })).toBe("'org.example.MyType'");
  });
});

describe('keyspaceCql and indexCql', () => {
  it('writes replication with the short strategy name and durable_writes', () => {
    expect(keyspaceCql({ name: 'Analytics', strategy: 'org.apache.cassandra.locator.NetworkTopologyStrategy', strategyOptions: { dc2: '1', dc1: '3' }, durableWrites: false }))
      .toBe(`CREATE KEYSPACE "Analytics" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': '3', 'dc2': '1'} AND durable_writes = false`);
  });

  it('quotes the bare column 2.1 names as an index target, inside keys(…) too', () => {
    // Prepare
    const table = { name: 'readings', columns: [{ name: 'select', type: int }, { name: 'Tags', type: text }] } as unknown as TableMetadataLike;

    // Act / Assess
    expect(indexCql('shop', table, { name: 'r_select', target: 'select', kind: 2, options: {} })).toBe('CREATE INDEX r_select ON shop.readings ("select")');
    expect(indexCql('shop', table, { name: 'r_tags', target: 'keys(Tags)', kind: 2, options: { index_keys: '' } })).toBe('CREATE INDEX r_tags ON shop.readings (keys("Tags"))');
    expect(indexCql('shop', table, { name: 'r_c', target: 'select', kind: 0, options: { class_name: 'org.example.Idx', mode: 'x' } }))
      .toBe(`CREATE CUSTOM INDEX r_c ON shop.readings ("select") USING 'org.example.Idx' WITH OPTIONS = {'mode': 'x'}`);
  });

  it('reads the index name back from its statement', () => {
    expect(indexNameOf('CREATE INDEX r_select ON shop.readings ("select")')).toBe('r_select');
    expect(indexNameOf('CREATE CUSTOM INDEX "Odd ""name""" ON shop.t (c) USING \'x\'')).toBe('Odd "name"');
  });
});

describe('tableDirName', () => {
  it('is the table name and the id without dashes', () => {
    expect(tableDirName({ table: 'items', id: '0bccd2e0-eeb5-11f1-a341-4d68ff3ad20d' })).toBe('items-0bccd2e0eeb511f1a3414d68ff3ad20d');
  });
});
