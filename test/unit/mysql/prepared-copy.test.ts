/**
 * The extract → verify → prepare sequence shared by the snapshot's prepare check and the physical
 * restore: the copy is prepared only when the extractor succeeded on exactly the artifact's bytes,
 * and any failure leaves no directory behind. Stand-in tools (bash scripts) record what they were
 * asked to do, so neither mariabackup nor xtrabackup is needed.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ArtifactRef } from '../../../core/driver/types';
import type { BackupTool } from '../../../drivers/mysql/physical/backup-tool';
import { makePreparedCopy } from '../../../drivers/mysql/physical/prepared-copy';

let dir: string;
let tool: BackupTool;
let copyDir: string;

/** Writes an executable bash script. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/bash\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/**
 * An extractor that writes its stdin to `<directory>/stream` (or fails as `failWith` says) and a
 * backup tool whose `--prepare` writes `<target-dir>/prepared`; both log their argv to `calls`.
 */
async function standInTools(failWith?: string): Promise<BackupTool> {
  const log = path.join(dir, 'calls');
  const extract = await script('fake-mbstream', `echo "extract $*" >> ${log}
for a in "$@"; do case $a in --directory=*) out=\${a#--directory=};; esac; done
cat > "$out/stream"
${failWith ?? ''}`);
  const prepare = await script('fake-mariabackup', `echo "prepare $*" >> ${log}
for a in "$@"; do case $a in --target-dir=*) out=\${a#--target-dir=};; esac; done
touch "$out/prepared"`);
  return { kind: 'mariabackup', command: prepare, extractCommand: extract };
}

async function calls(): Promise<string[]> {
  return (await readFile(path.join(dir, 'calls'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
}

const bytes = Buffer.from('an xbstream, for all the stand-ins care');
const artifact: ArtifactRef = { name: 'physical/backup.xbstream', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
const source = (data: Buffer = bytes) => () => Promise.resolve(Readable.from([data]));

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-prepared-copy-'));
  tool = await standInTools();
  copyDir = path.join(dir, 'copy');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makePreparedCopy', () => {
  it('extracts the artifact into a fresh directory, then prepares it there', async () => {
    // Prepare: a stale file from an earlier attempt.
    await mkdir(copyDir, { recursive: true });
    await writeFile(path.join(copyDir, 'stale'), 'old');

    // Act
    const times = await makePreparedCopy({ tool, artifact, open: source(), dir: copyDir, parallel: 3, purpose: 'test' });

    // Assess
    expect(await calls()).toEqual([
      `extract -x --directory=${copyDir} --parallel=3`,
      `prepare --no-defaults --prepare --target-dir=${copyDir}`,
    ]);
    expect((await readdir(copyDir)).sort()).toEqual(['prepared', 'stream']);
    expect(await readFile(path.join(copyDir, 'stream'))).toEqual(bytes);
    expect(times).toEqual({ extractMs: expect.any(Number), prepareMs: expect.any(Number) });
  });

  it('refuses bytes that are not the artifact\'s with CHECKSUM_MISMATCH, without preparing, and removes the copy', async () => {
    // Act
    const making = makePreparedCopy({ tool, artifact, open: source(Buffer.from('something else')), dir: copyDir, parallel: 1, purpose: 'test' });

    // Assess
    await expect(making).rejects.toMatchObject({ name: 'PermanentError', code: 'CHECKSUM_MISMATCH' });
    // The extractor may be stopped before it logged anything (a busy machine): what matters is no prepare.
    expect((await calls()).filter((call) => !call.startsWith('extract '))).toEqual([]);
    expect(await readdir(dir)).not.toContain('copy');
  });

  it('reports the extractor\'s failure with its purpose and stderr, without preparing, and removes the copy', async () => {
    // Prepare
    const failing = await standInTools("echo 'xb_stream_read_chunk(): invalid checksum at offset 0x1f' >&2; exit 1");

    // Act
    const making = makePreparedCopy({ tool: failing, artifact, open: source(), dir: copyDir, parallel: 1, purpose: 'restoring into /srv/data' });

    // Assess
    await expect(making).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'SNAPSHOT_CORRUPT',
      message: expect.stringMatching(/fake-mbstream -x \(restoring into \/srv\/data\) exited with code 1: .*\n.*invalid checksum at offset 0x1f/),
    });
    expect(await calls()).toEqual([expect.stringMatching(/^extract /)]);
    expect(await readdir(dir)).not.toContain('copy');
  });

  it('removes the directory when the artifact cannot be opened', async () => {
    // Prepare
    const unreadable = () => Promise.reject(new Error('the store is unreachable'));

    // Act
    const making = makePreparedCopy({ tool, artifact, open: unreadable, dir: copyDir, parallel: 1, purpose: 'test' });

    // Assess
    await expect(making).rejects.toThrow('the store is unreachable');
    expect(await calls()).toEqual([]);
    expect(await readdir(dir)).not.toContain('copy');
  });
});
