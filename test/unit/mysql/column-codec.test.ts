import { isExpectedLoadWarning, loadColumns, selectList, type ColumnInfo } from '../../../drivers/mysql/shared/column-codec';

const column = (name: string, type: string, generated = false): ColumnInfo => ({ name, type, generated });

describe('selectList', () => {
  it('reads floating-point columns as DOUBLE expressions and ENUM/SET as numbers, everything else as stored', () => {
    // Prepare
    const columns = [column('f', 'float'), column('d', 'double'), column('e', 'enum'), column('s', 'set'), column('u', 'uuid'), column('we`ird ☃', 'varchar')];

    // Act
    const list = selectList(columns);

    // Assess
    expect(list).toBe('(`f` * 1e0), (`d` * 1e0), CAST(`e` AS UNSIGNED), CAST(`s` AS UNSIGNED), `u`, `we``ird ☃`');
  });

  it('reads every column as the server prints it for an older backup (server-text)', () => {
    expect(selectList([column('f', 'float'), column('e', 'enum')], 'server-text')).toBe('`f`, `e`');
  });
});

describe('loadColumns', () => {
  it('stores ENUM/SET numbers by index, text-only types through utf8mb4, generated columns nowhere', () => {
    // Prepare
    const columns = [column('id', 'int'), column('e', 'enum'), column('g', 'int', true), column('u', 'uuid'), column('j', 'json'), column('f', 'float')];

    // Act
    const clause = loadColumns(columns);

    // Assess
    expect(clause).toBe('(`id`, @dbbackup_c1, @dbbackup_generated, @dbbackup_c3, @dbbackup_c4, `f`) '
      + 'SET `e` = CAST(@dbbackup_c1 AS UNSIGNED), `u` = CONVERT(@dbbackup_c3 USING utf8mb4), `j` = CONVERT(@dbbackup_c4 USING utf8mb4)');
  });

  it('loads an older backup\'s ENUM text as text', () => {
    expect(loadColumns([column('e', 'enum'), column('i', 'inet6')], 'server-text')).toBe('(`e`, @dbbackup_c1) SET `i` = CONVERT(@dbbackup_c1 USING utf8mb4)');
  });

  it('needs no SET clause when every column loads as it is', () => {
    expect(loadColumns([column('a', 'int'), column('b', 'blob')])).toBe('(`a`, `b`)');
  });
});

describe('isExpectedLoadWarning', () => {
  const columns = [column('e ☃', 'enum'), column('v', 'varchar'), column('g', 'varchar', true), column('n', 'tinyint', true)];

  it.each([
    ['data truncated on an ENUM column (its error value)', 1265, "Data truncated for column 'e ☃' at row 3", true],
    ['data truncated on another column', 1265, "Data truncated for column 'v' at row 3", false],
    ['another warning on the ENUM column', 1366, "Incorrect integer value: 'x' for column 'e ☃' at row 1", false],
    ['a column the table does not have', 1265, "Data truncated for column 'nope' at row 1", false],
    ['data truncated on a generated column (the server computing it; the digest proves what it stored)', 1265, "Data truncated for column 'g' at row 2", true],
    ['out of range on a generated column', 1264, "Out of range value for column 'n' at row 1", true],
    ['out of range on a loaded column', 1264, "Out of range value for column 'v' at row 1", false],
    ['another warning on a generated column', 1366, "Incorrect integer value: 'x' for column 'n' at row 1", false],
  ])('%s: %s', (_what, code, message, expected) => {
    expect(isExpectedLoadWarning({ code: code as number, message: message as string }, columns)).toBe(expected);
  });

  it('expects no warning at all when loading an older backup', () => {
    expect(isExpectedLoadWarning({ code: 1265, message: "Data truncated for column 'e ☃' at row 3" }, columns, 'server-text')).toBe(false);
  });
});
