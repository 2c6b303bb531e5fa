/**
 * A crashed upload continues from its last acknowledged part. A child process uploads a ~48 MiB
 * file slowly (rate limited, 5 MiB parts); we SIGKILL it once its checkpoint shows at least two
 * acknowledged parts, then run putFile again with the same checkpoint in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BlobStore } from '../../../core/store/blob-store';
import { LocalDirectoryStore } from '../../../core/store/local-directory-store';
import { PARTIAL_SUFFIX } from '../../../core/store/local-file-upload';
import { S3Store } from '../../../core/store/s3-store';
import type { UploadJob } from '../../fixtures/store/upload-file';
import { makeTempDir, removeDir, sha256OfFile, writeRandomFile } from '../../fixtures/store/files';
import { s3rverStoreOptions, startS3rver, type S3rverHandle } from '../../harness/s3rver';

const MiB = 1024 * 1024;
const PART_SIZE = 5 * MiB;
const FILE_SIZE = 48 * MiB + 12_345;
const TOTAL_PARTS = Math.ceil(FILE_SIZE / PART_SIZE);
const REPO_ROOT = path.resolve(__dirname, '../../..');
const UPLOADER = path.join(REPO_ROOT, 'test/fixtures/store/upload-file.ts');

/** Starts the uploader as one node process (so SIGKILL stops the upload itself). */
function startUploader(job: UploadJob): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', UPLOADER, JSON.stringify(job)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Polls `checkpointPath` until `ready(checkpoint)`; SIGKILLs the child; returns the checkpoint it left. */
async function killWhen<T>(child: ChildProcess, checkpointPath: string, ready: (checkpoint: T) => boolean): Promise<T> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`uploader finished before it could be killed (exit ${child.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`checkpoint never became ready: ${stderr}`);
      const current = await readFile(checkpointPath, 'utf8').then((text) => JSON.parse(text) as T, () => undefined);
      if (current !== undefined && ready(current)) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return JSON.parse(await readFile(checkpointPath, 'utf8')) as T;
}

describe('resume after kill', () => {
  let work: string;
  let file: string;
  let fileSha: string;

  beforeAll(async () => {
    work = await makeTempDir('resume');
    file = path.join(work, 'big.bin');
    fileSha = await writeRandomFile(file, FILE_SIZE);
  });

  afterAll(async () => {
    await removeDir(work);
  });

  describe('S3 store (s3rver)', () => {
    let server: S3rverHandle;
    let store: S3Store;

    beforeAll(async () => {
      server = await startS3rver();
      store = new S3Store(s3rverStoreOptions(server, 'resume'));
    });

    afterAll(async () => {
      store.destroy();
      await server.stop();
    });

    it('continues a killed multipart upload from its acknowledged parts', async () => {
      // Prepare
      const checkpointPath = path.join(work, 's3.checkpoint.json');
      const child = startUploader({
        store: { kind: 's3', options: s3rverStoreOptions(server, 'resume') },
        key: 'db/big.bin', file, checkpointPath, partSize: PART_SIZE, concurrency: 2, rateLimit: 8 * MiB,
      });
      const left = await killWhen<{ uploadId: string; checksumAlgorithm?: string; parts: { PartNumber: number; ChecksumCRC32?: string }[] }>(
        child, checkpointPath, (checkpoint) => checkpoint.parts.length >= 2,
      );
      const sentParts: number[] = [];
      store.client.middlewareStack.add(
        (next) => async (args) => {
          const input = args.input as { PartNumber?: number; UploadId?: string };
          if (input.PartNumber !== undefined) sentParts.push(input.PartNumber);
          return next(args);
        },
        { step: 'initialize', name: 'countUploadParts' },
      );

      // Act
      const result = await store.putFile('db/big.bin', file, { checkpointPath, partSize: PART_SIZE, expectedSha256: fileSha });
      const downloaded = path.join(work, 's3.download');
      await store.getFile('db/big.bin', downloaded);

      // Assess
      const acknowledged = left.parts.map((part) => part.PartNumber);
      expect(acknowledged.length).toBeGreaterThanOrEqual(2);
      expect(acknowledged.length).toBeLessThan(TOTAL_PARTS);
      expect(result.resumedBytes).toBe(acknowledged.length * PART_SIZE);
      expect(sentParts.sort((a, b) => a - b)).toEqual(
        Array.from({ length: TOTAL_PARTS }, (_, i) => i + 1).filter((n) => !acknowledged.includes(n)),
      );
      expect(result.sha256).toBe(fileSha);
      expect(await sha256OfFile(downloaded)).toBe(fileSha);
      await expect(stat(checkpointPath)).rejects.toMatchObject({ code: 'ENOENT' });
      // Every part, resumed or sent now, carried its CRC32: S3's checksum of the object is the one they make.
      expect(left.checksumAlgorithm).toBe('CRC32');
      expect(left.parts.every((part) => part.ChecksumCRC32 !== undefined)).toBe(true);
      expect(result.checksum).toMatch(new RegExp(`^crc32:.{8}-${TOTAL_PARTS}$`));
      expect((await store.head('db/big.bin', { checksum: true }))?.checksum).toBe(result.checksum);
    });
  });

  describe('local directory store', () => {
    let root: string;
    let store: BlobStore;

    beforeAll(async () => {
      root = await makeTempDir('resume-root');
      store = new LocalDirectoryStore(root);
    });

    afterAll(async () => {
      await removeDir(root);
    });

    it('continues a killed copy from the bytes its checkpoint recorded', async () => {
      // Prepare
      const checkpointPath = path.join(work, 'local.checkpoint.json');
      const child = startUploader({
        store: { kind: 'local', root }, key: 'db/big.bin', file, checkpointPath, partSize: PART_SIZE, concurrency: 1, rateLimit: 8 * MiB,
      });
      const left = await killWhen<{ bytesDone: number }>(child, checkpointPath, (checkpoint) => checkpoint.bytesDone >= 2 * PART_SIZE);
      const progress: number[] = [];

      // Act
      const result = await store.putFile('db/big.bin', file, {
        checkpointPath, partSize: PART_SIZE, expectedSha256: fileSha, onProgress: (bytes) => progress.push(bytes),
      });

      // Assess
      expect(left.bytesDone).toBeGreaterThanOrEqual(2 * PART_SIZE);
      expect(left.bytesDone).toBeLessThan(FILE_SIZE);
      expect(result.resumedBytes).toBe(left.bytesDone);
      expect(progress[0]).toBe(left.bytesDone);
      expect(result.sha256).toBe(fileSha);
      expect(await sha256OfFile(path.join(root, 'db', 'big.bin'))).toBe(fileSha);
      await expect(stat(checkpointPath)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('copies the file whole again when a byte its checkpoint kept was damaged since: the object is the source\'s', async () => {
      // Prepare: a killed copy, then one byte of the part its checkpoint counts as written flipped
      const checkpointPath = path.join(work, 'damaged.checkpoint.json');
      const child = startUploader({
        store: { kind: 'local', root }, key: 'db/damaged.bin', file, checkpointPath, partSize: PART_SIZE, concurrency: 1, rateLimit: 8 * MiB,
      });
      const left = await killWhen<{ bytesDone: number }>(child, checkpointPath, (checkpoint) => checkpoint.bytesDone >= 2 * PART_SIZE);
      const partial = await open(path.join(root, 'db', `damaged.bin${PARTIAL_SUFFIX}`), 'r+');
      const byte = Buffer.alloc(1);
      await partial.read(byte, 0, 1, PART_SIZE + 7);
      byte[0] ^= 0xff;
      await partial.write(byte, 0, 1, PART_SIZE + 7);
      await partial.close();

      // Act
      const result = await store.putFile('db/damaged.bin', file, { checkpointPath, partSize: PART_SIZE, expectedSha256: fileSha });

      // Assess
      expect(left.bytesDone).toBeGreaterThan(PART_SIZE + 7);
      expect(result).toMatchObject({ sha256: fileSha, resumedBytes: 0 });
      expect(await sha256OfFile(path.join(root, 'db', 'damaged.bin'))).toBe(fileSha);
      await expect(stat(checkpointPath)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
