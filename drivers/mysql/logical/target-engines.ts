/**
 * The storage engines a logical restore's tables need, checked on the target before anything is
 * written: a server without an engine would make the table with its default one instead (unless
 * `NO_ENGINE_SUBSTITUTION`), a FEDERATED or SPIDER table quietly becoming local, an ARCHIVE one
 * InnoDB, and every row and digest would still match.
 */
import type { Connection } from 'mysql2/promise';
import { PermanentError } from '../../../core/errors';
import { nameSome } from '../../../core/name-some';
import { catalogText } from '../shared/catalog-text';
import { ENGINE, type TableFacts } from '../shared/layout';

/**
 * Refuses a restore of `tables` (as the manifest records them) onto a server that does not offer
 * each engine they use (information_schema.ENGINES: `SUPPORT` YES or DEFAULT).
 * @throws PermanentError `UNSUPPORTED_RESTORE` naming each engine missing and its tables
 */
export async function assertTargetEngines(connection: Connection, tables: readonly Pick<TableFacts, 'database' | 'table' | 'engine'>[], target: string): Promise<void> {
  const [rows] = await connection.query("SELECT ENGINE AS engine FROM information_schema.ENGINES WHERE SUPPORT IN ('YES', 'DEFAULT')") as [Array<{ engine: unknown }>, unknown];
  const offered = new Set(rows.map((r) => catalogText(r.engine).toLowerCase()));
  const missing = new Map<string, string[]>();
  for (const t of tables) {
    if (!t.engine || t.engine === 'unknown' || offered.has(t.engine.toLowerCase())) continue;
    missing.set(t.engine, [...(missing.get(t.engine) ?? []), `${t.database}.${t.table}`]);
  }
  if (missing.size === 0) return;
  const needs = [...missing].map(([engine, names]) => `${engine} (${nameSome(names)})`);
  throw new PermanentError(
    `restore target ${target} does not offer the storage engine${missing.size > 1 ? 's' : ''} ${needs.join('; ')}: the server would make such a table with another engine, not the one backed up; install or enable it there (INSTALL SONAME, say) and restore again. Nothing was changed on the target`,
    { code: 'UNSUPPORTED_RESTORE', engine: ENGINE },
  );
}
