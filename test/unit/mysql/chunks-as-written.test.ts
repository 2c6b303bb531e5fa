import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ArtifactReader } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { notReadBackVerdict, unprovenTables } from '../../../drivers/mysql/logical/chunks-as-written';
import type { TableFacts } from '../../../drivers/mysql/shared/layout';

let spool: string;

beforeAll(async () => { spool = await mkdtemp(path.join(os.tmpdir(), 'chunks-as-written-')); });
afterAll(() => rm(spool, { recursive: true, force: true }));

/** A chunk file in the spool and its recorded ref. */
async function chunk(name: string, bytes: Buffer): Promise<ArtifactRef> {
  await mkdir(path.dirname(path.join(spool, name)), { recursive: true });
  await writeFile(path.join(spool, name), bytes);
  return { name, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const table = (name: string, chunks: string[]): TableFacts => ({ database: 'd', table: name, engine: 'InnoDB', rows: 1, digest: '0'.repeat(32), chunks });

describe('unprovenTables', () => {
  it('proves tables whose chunks are the bytes written; names a missing, a damaged and a gzip-era chunk', async () => {
    // Prepare
    const intact = await chunk('data/d/ok/000000.tsv.zst', Buffer.from('frames'));
    const damaged = await chunk('data/d/bad/000000.tsv.zst', Buffer.from('frames'));
    await writeFile(path.join(spool, damaged.name), 'framez');
    const old = await chunk('data/d/old/000000.tsv.gz', Buffer.from('gzip'));
    const tables = [
      table('ok', [intact.name]), table('bad', [damaged.name]), table('old', [old.name]), table('gone', ['data/d/gone/000000.tsv.zst']),
    ];

    // Act
    const problems = await unprovenTables(tables, [intact, damaged, old], new ArtifactReader(spool, undefined));

    // Assess
    expect(problems).toEqual([
      expect.stringMatching(/^d\.bad: data\/d\/bad\/000000\.tsv\.zst: artifact .* does not match its checksum/),
      'd.old: data/d/old/000000.tsv.gz was written before chunks were read back as they were written; take a new backup',
      'd.gone: data/d/gone/000000.tsv.zst is not in the snapshot',
    ]);
  });

  it('does not resume a completed snapshot of gzip chunks (its validation could not prove them), and resumes one of zstd chunks', () => {
    const ref = (name: string): ArtifactRef => ({ name, size: 1, sha256: 'x' });
    expect(notReadBackVerdict({ artifacts: [ref('schema/d.sql'), ref('data/d/t/000000.tsv.gz')] })).toMatchObject({ resumable: false, reason: expect.stringContaining('a new snapshot is needed') });
    expect(notReadBackVerdict({ artifacts: [ref('schema/d.sql'), ref('data/d/t/000000.tsv.zst')] })).toBeUndefined();
  });
});
