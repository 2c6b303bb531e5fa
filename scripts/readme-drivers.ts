/**
 * The README's driver table, rendered from the list of built-in drivers (drivers/index.ts), so the
 * README never lists a driver that is not built in, or misses one that is. A unit test checks the
 * README holds exactly this table; `npx tsx scripts/readme-drivers.ts` writes it there.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BuiltinDriver } from '../core/driver/builtin-driver';
import { BUILTIN_DRIVERS } from '../drivers';

/** The comments around the table in the README. */
export const TABLE_MARKERS = { begin: '<!-- driver-table: generated from drivers/index.ts by scripts/readme-drivers.ts -->', end: '<!-- /driver-table -->' } as const;

/** A table cell: a `|` would end it. */
const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The markdown table, one row per driver in the list's order. */
export function driverTable(drivers: readonly BuiltinDriver[]): string {
  const rows = drivers.map(({ plugin, docs }) => {
    const name = plugin.manifest.name;
    return `| ${[docs.versions, docs.snapshot, docs.restore, docs.validation].map(cell).join(' | ')} | [drivers/${name}](drivers/${name}/README.md) |`;
  });
  return ['| engine | snapshot | restore | validation | docs |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** What stands between the markers in `readme`; undefined when the markers are missing. */
export function tableInReadme(readme: string): string | undefined {
  const begin = readme.indexOf(TABLE_MARKERS.begin);
  const end = readme.indexOf(TABLE_MARKERS.end);
  if (begin < 0 || end < begin) return undefined;
  return readme.slice(begin + TABLE_MARKERS.begin.length, end).trim();
}

/** `readme` with the table between the markers replaced by `table`. */
export function withTable(readme: string, table: string): string {
  const current = tableInReadme(readme);
  if (current === undefined) throw new Error(`the README has no ${TABLE_MARKERS.begin} … ${TABLE_MARKERS.end} section`);
  const begin = readme.indexOf(TABLE_MARKERS.begin) + TABLE_MARKERS.begin.length;
  return `${readme.slice(0, begin)}\n${table}\n${readme.slice(readme.indexOf(TABLE_MARKERS.end))}`;
}

if (require.main === module) {
  const file = path.resolve(__dirname, '..', 'README.md');
  writeFileSync(file, withTable(readFileSync(file, 'utf8'), driverTable(BUILTIN_DRIVERS)));
}
