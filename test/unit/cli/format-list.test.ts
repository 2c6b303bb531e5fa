/** `dbbackup list`'s STATUS column: an incremental backup whose chain is broken says so, whatever its own verification or drill said. */
import type { CatalogEntry } from '../../../core/catalog/catalog';
import { formatList, listedEntries } from '../../../bin/format';

/** A complete, validated etcd backup of instance `chain`, extending `base` when given. */
function entry(backupId: string, extra: Partial<CatalogEntry> = {}, base?: string): CatalogEntry {
  return {
    backupId, engine: 'etcd', instance: 'chain', prefix: `backups/etcd/chain/${backupId}`, complete: true, status: 'complete', createdAt: new Date('2026-12-04T00:00:00Z'), storedBytes: 1,
    manifest: { completedAt: '2026-12-04T00:00:00Z', validation: { ok: true }, bytes: 1, artifacts: [], ...(base ? { extends: base } : {}) } as unknown as CatalogEntry['manifest'],
    ...extra,
  };
}

it('lists an incremental backup resting on a corrupt one as CHAIN BROKEN, even one a drill restored before', () => {
  // Prepare: the full backup failed a re-verification after its incrementals were taken and drilled
  const full = entry('20261204T000000000Z-ffffff', { verification: { ok: false, verifiedAt: '2026-12-04T10:00:00Z', artifacts: [] } as unknown as CatalogEntry['verification'] });
  const first = entry('20261204T040000000Z-111111', {}, full.backupId);
  const second = entry('20261204T080000000Z-222222', { drill: { ok: true } as CatalogEntry['drill'] }, first.backupId);
  const entries = [second, first, full];

  // Act
  const text = formatList(entries);
  const json = listedEntries(entries) as Array<{ listStatus: string }>;

  // Assess
  expect(json.map((e) => e.listStatus)).toEqual(['CHAIN BROKEN', 'CHAIN BROKEN', 'CORRUPT']);
  expect(text.split('\n').slice(1).map((line) => line.split(/\s{2,}/)[4])).toEqual(['CHAIN BROKEN', 'CHAIN BROKEN', 'CORRUPT']);
});
