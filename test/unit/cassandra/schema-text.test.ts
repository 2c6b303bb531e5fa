/** CQL text from cassandra-driver metadata (drivers/cassandra/cql-text.ts, schema-text.ts), on metadata shaped as 2.1 reports it. */
import { types } from 'cassandra-driver';
import { cqlType, quoteIdentifier } from '../../../drivers/cassandra/cql-text';
import { indexCql, indexNameGrammar, indexNameText, keyspaceCql, type TableMetadataLike } from '../../../drivers/cassandra/schema-text';
import { indexNameOf, indexStatementFor, tableDirName } from '../../../drivers/cassandra/schema-cql';

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

describe('index names per release (Cql.g before 2.1.3: a bare IDENT as written; 2.1.3 on, Parser.g: an identifier, unquoted lower-cased)', () => {
  it.each([
    ['2.0.17', 'as-written'], ['2.1.0', 'as-written'], ['2.1.2', 'as-written'], ['2.1.3', 'identifier'], ['2.1.22', 'identifier'],
    ['2.2.0', 'identifier'], ['3.0.29', 'identifier'], ['3.11.16', 'identifier'], ['4.0.0.6816', 'identifier'], ['4.1.3', 'identifier'], ['', 'identifier'],
  ])('reads release %s as %s', (release, grammar) => {
    expect(indexNameGrammar(release)).toBe(grammar);
  });

  it('writes a mixed-case name bare before 2.1.3 and quoted from 2.1.3 on, a lower-case one bare on both', () => {
    expect(indexNameText('AttrKeys', 'as-written')).toBe('AttrKeys');
    expect(indexNameText('AttrKeys', 'identifier')).toBe('"AttrKeys"');
    expect(indexNameText('MixedTable_ColA_idx', 'as-written')).toBe('MixedTable_ColA_idx');
    expect(indexNameText('MixedTable_ColA_idx', 'identifier')).toBe('"MixedTable_ColA_idx"');
    expect(indexNameText('r_select', 'as-written')).toBe('r_select');
    expect(indexNameText('r_select', 'identifier')).toBe('r_select');
    // Before 2.1.3 a name that is no bare word cannot be written at all.
    expect(indexNameText('my index', 'as-written')).toBeUndefined();
    expect(indexNameText('_x', 'as-written')).toBeUndefined();
    expect(indexNameText('my index', 'identifier')).toBe('"my index"');
  });

  it('rewrites the backup\'s statement for each release: the index gets exactly the source\'s name', () => {
    // Prepare: what indexCql writes (the name as 2.1.3 and later read it)
    const table = { name: 'idx', columns: [{ name: 'attrs', type: { code: dataTypes.map, info: [text, text] } }] } as unknown as TableMetadataLike;
    const statement = indexCql('hostile', table, { name: 'AttrKeys', target: 'keys(attrs)', kind: 2, options: { index_keys: '' } });
    const custom = 'CREATE CUSTOM INDEX "userByV" ON live.users (v) USING \'org.example.Idx\'';

    // Act / Assess
    expect(statement).toBe('CREATE INDEX "AttrKeys" ON hostile.idx (keys(attrs))');
    expect(indexStatementFor(statement, ['as-written'])).toBe('CREATE INDEX AttrKeys ON hostile.idx (keys(attrs))');
    expect(indexStatementFor(statement, ['identifier', 'identifier'])).toBe(statement);
    expect(indexStatementFor('CREATE INDEX IF NOT EXISTS "MixedTable_ColA_idx" ON "MixedKS"."MixedTable" ("Col A")', ['as-written']))
      .toBe('CREATE INDEX IF NOT EXISTS MixedTable_ColA_idx ON "MixedKS"."MixedTable" ("Col A")');
    expect(indexStatementFor(custom, ['as-written'])).toBe('CREATE CUSTOM INDEX userByV ON live.users (v) USING \'org.example.Idx\'');
    // A lower-case name reads the same everywhere, even in a ring of both.
    expect(indexStatementFor('CREATE INDEX r_select ON shop.readings ("select")', ['as-written', 'identifier'])).toBe('CREATE INDEX r_select ON shop.readings ("select")');
  });

  it('refuses a name an old release cannot write, and a ring whose releases read the name differently', () => {
    expect(() => indexStatementFor('CREATE INDEX "my index" ON ks.t (c)', ['as-written'])).toThrow(expect.objectContaining({ code: 'CASSANDRA_INDEX_NAME_UNSUPPORTED' }));
    expect(() => indexStatementFor('CREATE INDEX "AttrKeys" ON ks.t (c)', ['as-written', 'identifier'])).toThrow(expect.objectContaining({ code: 'CASSANDRA_INDEX_NAME_UNSUPPORTED' }));
  });
});

describe('tableDirName', () => {
  it('is the table name and the id without dashes', () => {
    expect(tableDirName({ table: 'items', id: '0bccd2e0-eeb5-11f1-a341-4d68ff3ad20d' })).toBe('items-0bccd2e0eeb511f1a3414d68ff3ad20d');
  });
});
