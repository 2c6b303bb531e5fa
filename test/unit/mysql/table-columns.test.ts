import { classifyColumn } from '../../../drivers/mysql/shared/table-columns';

describe('classifyColumn', () => {
  it.each<[string, string, string, ReturnType<typeof classifyColumn>]>([
    ['a plain column', '', '', 'data'],
    ['an INVISIBLE column (dumped: SELECT * would leave it out)', 'INVISIBLE', '', 'data'],
    ['auto_increment', 'auto_increment', '', 'data'],
    ['MySQL 8 DEFAULT_GENERATED (a default expression, not a generated column)', 'DEFAULT_GENERATED on update CURRENT_TIMESTAMP', '', 'data'],
    ['MariaDB VIRTUAL', 'VIRTUAL GENERATED', '`a` * 2', 'generated'],
    ['MySQL STORED', 'STORED GENERATED', '(`a` + 1)', 'generated'],
    ['an invisible generated column', 'VIRTUAL GENERATED, INVISIBLE', '`id` * 2', 'generated'],
    ['MariaDB PERSISTENT', 'PERSISTENT GENERATED', '`a`', 'generated'],
    ['system versioning ROW START', 'STORED GENERATED, INVISIBLE', 'ROW START', 'versioning'],
    ['system versioning ROW END', 'STORED GENERATED', 'ROW END', 'versioning'],
  ])('%s', (_label, extra, expression, expected) => {
    expect(classifyColumn(extra, expression)).toBe(expected);
  });
});
