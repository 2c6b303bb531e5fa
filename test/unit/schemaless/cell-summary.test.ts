import { TableDigest } from '../../../drivers/mysql/shared/table-digest';
import { extendSummary } from '../../../drivers/schemaless/cell-summary';

const digestOf = (...rows: string[]) => {
  const digest = new TableDigest();
  for (const row of rows) digest.add([Buffer.from(row)]);
  return digest.hex();
};

describe('extendSummary (an incremental backup summary: the previous one plus the cells taken since)', () => {
  const table = { database: 'sl_0', table: 'cell' };
  const previous = { cells: 2, maxAddedId: '7', digest: digestOf('a', 'b') };

  it('adds the new cells to the previous summary, the highest id from the whole table', () => {
    expect(extendSummary(table, previous, { cells: 1, digest: digestOf('c') }, { cells: 3, maxAddedId: '9' }))
      .toEqual({ cells: 3, maxAddedId: '9', digest: digestOf('a', 'b', 'c') });
  });

  it('refuses a table holding cells neither backup took (SCHEMALESS_CELLS_UNACCOUNTED)', () => {
    expect(() => extendSummary(table, previous, { cells: 1, digest: digestOf('c') }, { cells: 4, maxAddedId: '9' }))
      .toThrow(expect.objectContaining({ code: 'SCHEMALESS_CELLS_UNACCOUNTED', message: expect.stringContaining('1 unaccounted for') }));
  });
});
