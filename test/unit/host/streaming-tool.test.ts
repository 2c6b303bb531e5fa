/**
 * A tool whose stdout is the backup (spawnStreamingTool): its output reaches the store or the spool
 * only when it exits 0. A tool that writes everything and then fails, is killed, or is stopped by
 * the step's abort, leaves no object and no spool file behind. Real processes (bash), a real local store and S3 (s3rver).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spoolSink, storeSink } from '../../../core/driver/artifact-sink';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { openStore, s3OptionsFromEnv } from '../../../core/store/open-store';
import { spawnStreamingTool } from '../../../core/host/streaming-tool';
import { MYSQL_TOOLS } from '../../../drivers/mysql/shared/tool-errors';
import { startTestS3 } from '../../harness/s3';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-streaming-tool-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under `root`, relative, sorted. */
async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

/** bash running `script`, its stdout streamed. */
const bash = (script: string) => spawnStreamingTool('bash', ['-c', script], { errors: MYSQL_TOOLS, what: 'test tool --backup' });

describe('spawnStreamingTool', () => {
  it('commits the whole stream to the store when the tool exits 0', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const tool = bash('head -c 3000000 /dev/zero');

    // Act
    const artifact = await storeSink({ store, prefix: 'b/data/default' }).write('physical/backup.xbstream', tool.stdout, tool.exitGate);

    // Assess
    const stored = await readFile(path.join(dir, 'store', 'b/data/default/physical/backup.xbstream'));
    expect(artifact).toMatchObject({ size: 3_000_000, key: 'b/data/default/physical/backup.xbstream' });
    expect(createHash('sha256').update(stored).digest('hex')).toBe(artifact.sha256);
    expect(await tool.exited).toMatchObject({ code: 0 });
  });

  it.each([
    ['store', 'exits 3 after writing all its output', 'head -c 3000000 /dev/zero; echo "xtrabackup: Error: write failed" >&2; exit 3', /test tool --backup exited with code 3: see its output\nxtrabackup: Error: write failed/],
    ['spool', 'exits 3 after writing all its output', 'head -c 3000000 /dev/zero; exit 3', /exited with code 3/],
    ['store', 'is killed mid-stream', 'head -c 1000000 /dev/zero; kill -KILL $$', /was killed by SIGKILL/],
    ['spool', 'is killed mid-stream', 'head -c 1000000 /dev/zero; kill -KILL $$', /was killed by SIGKILL/],
  ])('writes nothing to the %s when the tool %s', async (where, _how, script, message) => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const sink = where === 'store' ? storeSink({ store, prefix: 'b/data/default' }) : spoolSink(path.join(dir, 'spool'));
    const tool = bash(script);

    // Act
    const writing = sink.write('physical/backup.xbstream', tool.stdout, tool.exitGate);

    // Assess
    await expect(writing).rejects.toMatchObject({ name: 'PermanentError', code: 'MYSQL_TOOL_FAILED', message: expect.stringMatching(message) });
    expect(await files(path.join(dir, 'store'))).toEqual([]);
    expect(await files(path.join(dir, 'spool'))).toEqual([]);
  });

  it.each(['store', 'spool'])('writes nothing to the %s and fails with ABORTED when the step is aborted, even if the tool then exits 0', async (where) => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const sink = where === 'store' ? storeSink({ store, prefix: 'b/data/default' }) : spoolSink(path.join(dir, 'spool'));
    const abort = new AbortController();
    // The sleep starts before the trap is set, so the handler always has a pid to kill.
    const tool = spawnStreamingTool('bash', ['-c', "sleep 30 & p=$!; trap 'kill $p; exit 0' TERM; head -c 3000000 /dev/zero; echo streamed >&2; wait $p"], {
      errors: MYSQL_TOOLS, what: 'test tool --backup', signal: abort.signal, onStderrLine: () => abort.abort(),
    });

    // Act
    const writing = sink.write('physical/backup.xbstream', tool.stdout, tool.exitGate);

    // Assess
    await expect(writing).rejects.toMatchObject({ name: 'PermanentError', code: 'ABORTED', message: 'test tool --backup was stopped: the step was aborted\nstreamed' });
    expect(await tool.exited).toMatchObject({ code: 0 });
    expect(await files(path.join(dir, 'store'))).toEqual([]);
    expect(await files(path.join(dir, 'spool'))).toEqual([]);
  });

  it('maps a tool that cannot be started to MISSING_TOOL through the stream', async () => {
    // Prepare
    const store = new LocalDirectoryStore(path.join(dir, 'store'));
    const tool = spawnStreamingTool('no-such-backup-tool', [], { errors: MYSQL_TOOLS, what: 'no-such-backup-tool --backup' });

    // Act
    const writing = storeSink({ store, prefix: 'b' }).write('x', tool.stdout, tool.exitGate);

    // Assess
    await expect(writing).rejects.toMatchObject({ name: 'PermanentError', code: 'MISSING_TOOL' });
    expect(await files(path.join(dir, 'store'))).toEqual([]);
  });

  it('commits nothing to S3 when the tool fails after writing a multipart-sized stream', async () => {
    // Prepare
    const s3 = await startTestS3();
    try {
      const store = openStore(s3.storeUrl(), s3OptionsFromEnv(s3.env));
      const tool = bash('head -c 12000000 /dev/urandom; exit 3');

      // Act
      const writing = storeSink({ store, prefix: 'b/data/default' }).write('physical/backup.xbstream', tool.stdout, tool.exitGate);

      // Assess
      await expect(writing).rejects.toMatchObject({ code: 'MYSQL_TOOL_FAILED' });
      const left: string[] = [];
      for await (const object of store.list('b/')) left.push(object.key);
      expect(left).toEqual([]);
    } finally {
      await s3.stop();
    }
  }, 60_000);
});
