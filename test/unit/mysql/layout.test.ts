import { binlogArtifact, chunkArtifact, rowsElsewhereApart, schemaArtifact } from '../../../drivers/mysql/shared/layout';

describe('artifact names', () => {
  it('percent-encode names, dots included, so no name becomes a path of its own', () => {
    expect(chunkArtifact('..', '.', 0)).toBe('data/%2E%2E/%2E.000000.tsv.zst');
    expect(schemaArtifact('uni ☃/x')).toBe('schema/uni%20%E2%98%83%2Fx.sql');
    expect(chunkArtifact('a~b', 't~1', 0)).toBe('data/a%7Eb/t%7E1.000000.tsv.zst');
    expect(binlogArtifact('my~bin.000007')).toBe('binlog/my~bin%2E000007'); // as older backups archived it: a replay finds it there
  });

  it('keep every segment short enough for any file system, however long the name, and tell long names apart', () => {
    // Prepare: 64 characters of a 3-byte letter encode to 576 characters
    const long = 'ü'.repeat(63);
    const names = [`${long}a`, `${long}b`, '☃'.repeat(64)];

    // Act
    const artifacts = names.map((name) => chunkArtifact(name, name, 1));

    // Assess
    for (const artifact of artifacts) {
      for (const part of artifact.split('/')) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(127);
    }
    expect(new Set(artifacts).size).toBe(3);
    expect(artifacts[0]).toMatch(/^data\/(%C3%BC)+~[0-9a-f]{16}\/(%C3%BC)+~[0-9a-f]{16}\.000001\.tsv\.zst$/);
  });

  it('name every chunk of a table under the same table name, which no other table\'s name can take', () => {
    // Prepare: a name that is shortened, and a table named as its shortened form
    const long = `${'é'.repeat(17)}ab`;
    const [first, later] = [chunkArtifact('db', long, 0, 0), chunkArtifact('db', long, 0, 1)];
    const shortened = decodeURIComponent(later.slice('data/db/'.length, later.indexOf('.000000')));

    // Act
    const impostor = chunkArtifact('db', shortened, 0, 1);

    // Assess
    expect(first.slice(0, first.indexOf('.000000'))).toBe(later.slice(0, later.indexOf('.000000')));
    expect(impostor).not.toBe(later);
  });

  it('keep names that differ only in case apart on a file system that folds case (macOS, Windows): a name with an upper-case letter gains a hash of itself', () => {
    // Prepare: tables and databases a case-keeping server holds apart
    const names = [chunkArtifact('Shop', 'T', 0), chunkArtifact('Shop', 't', 0), chunkArtifact('shop', 'T', 0), chunkArtifact('shop', 't', 0), schemaArtifact('Shop'), schemaArtifact('shop')];

    // Act
    const folded = names.map((name) => name.toLowerCase());

    // Assess
    expect(new Set(folded).size).toBe(names.length);
    expect(names[3]).toBe('data/shop/t.000000.tsv.zst'); // a lower-case name stays as it was
    expect(names[1]).toMatch(/^data\/Shop~[0-9a-f]{8}\/t\.000000\.tsv\.zst$/);
    for (const name of [...names, chunkArtifact('Shop', 'É'.repeat(63) + 'X', 0)]) {
      for (const part of name.split('/')) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(127);
    }
  });
});

describe('rowsElsewhereApart', () => {
  it('moves FEDERATED, SPIDER and MERGE tables an older backup listed with rows to rowsElsewhere, so a restore neither loads nor compares them', () => {
    // Prepare
    const table = (name: string, engine: string) => ({ database: 'd', table: name, engine, rows: 2, digest: 'x', chunks: [`data/d/${name}.000000.tsv.zst`] });
    const facts = { mode: 'logical' as const, databases: ['d'], schema: [], tables: [table('local', 'InnoDB'), table('remote', 'FEDERATED'), table('united', 'MRG_MyISAM')] };

    // Act
    const apart = rowsElsewhereApart(facts);

    // Assess
    expect(apart.tables.map((t) => t.table)).toEqual(['local']);
    expect(apart.rowsElsewhere).toEqual([{ database: 'd', table: 'remote', engine: 'FEDERATED' }, { database: 'd', table: 'united', engine: 'MRG_MyISAM' }]);
    expect(rowsElsewhereApart(apart)).toBe(apart);
  });
});
