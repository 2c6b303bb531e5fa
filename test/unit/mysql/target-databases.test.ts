/** Mapping backed-up databases to their target names, and what makes a target database occupied. */
import { describeState, effectiveRenames, holdsObjects, mapDatabases } from '../../../drivers/mysql/logical/target-databases';

describe('mapDatabases', () => {
  it('maps each database to itself unless renamed', () => {
    // Act
    const mappings = mapDatabases({ databases: ['shop', 'crm'] }, { shop: 'shop_restored' });

    // Assess
    expect(mappings).toEqual([{ source: 'shop', target: 'shop_restored' }, { source: 'crm', target: 'crm' }]);
    expect(effectiveRenames(mappings)).toEqual({ shop: 'shop_restored' });
  });

  it('refuses renames of databases the backup does not hold, collisions and system databases', () => {
    // Act / Assess
    expect(() => mapDatabases({ databases: ['shop'] }, { shopp: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('shopp') }));
    expect(() => mapDatabases({ databases: ['shop', 'crm'] }, { shop: 'crm' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => mapDatabases({ databases: ['shop'] }, { shop: 'mysql' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => mapDatabases({ databases: ['shop'] }, { shop: 'MySQL' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('maps names that differ only by case to two databases (whether the target keeps them apart is asked of the target)', () => {
    // Act
    const mappings = mapDatabases({ databases: ['shop', 'crm'] }, { shop: 'CRM' });

    // Assess
    expect(mappings.map((m) => m.target)).toEqual(['CRM', 'crm']);
  });
});

describe('holdsObjects / describeState', () => {
  it('counts tables, views, routines and events, not the restore marker', () => {
    // Prepare
    const empty = { name: 'a', exists: true, tables: 0, views: 0, routines: 0, events: 0, marked: true };
    const full = { name: 'b', exists: true, tables: 2, views: 1, routines: 0, events: 0, marked: false };

    // Act / Assess
    expect(holdsObjects(empty)).toBe(false);
    expect(holdsObjects(full)).toBe(true);
    expect(describeState(empty)).toBe('a (an unfinished restore)');
    expect(describeState(full)).toBe('b (2 tables, 1 view)');
  });
});
