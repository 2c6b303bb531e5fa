/** The README's driver table is the list of built-in drivers (drivers/index.ts), row for row. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_DRIVERS } from '../../../drivers';
import { driverTable, tableInReadme, withTable } from '../../../scripts/readme-drivers';

const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');

describe('the README driver table', () => {
  it('is the table rendered from drivers/index.ts (run `npx tsx scripts/readme-drivers.ts` after changing the list)', () => {
    // Act
    const table = tableInReadme(readme);

    // Assess
    expect(table).toBe(driverTable(BUILTIN_DRIVERS));
  });

  it('has one row per built-in driver, linking its README', () => {
    // Act
    const rows = driverTable(BUILTIN_DRIVERS).split('\n').slice(2);

    // Assess
    expect(rows).toHaveLength(BUILTIN_DRIVERS.length);
    BUILTIN_DRIVERS.forEach(({ plugin }, i) => expect(rows[i]).toMatch(new RegExp(`\\(drivers/${plugin.manifest.name}/README\\.md\\) \\|$`)));
  });

  it('is replaced in place by withTable, leaving the rest of the README as it was', () => {
    // Act
    const replaced = withTable(readme, '| x |');

    // Assess
    expect(tableInReadme(replaced)).toBe('| x |');
    expect(withTable(replaced, driverTable(BUILTIN_DRIVERS))).toBe(readme);
  });
});
