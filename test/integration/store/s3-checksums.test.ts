/**
 * S3's own checksums of what it stores: the S3 store sends a CRC32 with every object and part it
 * puts (S3 refuses bytes that do not match), keeps the one S3 reports, and a snapshot's validation
 * compares it with the object's head instead of reading the object back — on S3, the validate
 * step no longer downloads every byte the snapshot streamed there. The s3rver stand-in keeps
 * checksums as S3 does (harness/s3rver-checksums.js); its refusals are tested here too.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ArtifactReader, storeSink, verifyArtifact } from '../../../core/driver/artifact-sink';
import type { ArtifactRef } from '../../../core/driver/types';
import { S3Store } from '../../../core/store/s3-store';
import { sha256OfStream } from '../../fixtures/store/files';
import { startCountingProxy, type CountingProxy } from '../../harness/counting-proxy';
import { s3rverObjectPath, s3rverStoreOptions, startS3rver, type S3rverHandle } from '../../harness/s3rver';

const MiB = 1024 * 1024;
let server: S3rverHandle;
let proxy: CountingProxy;
let store: S3Store;

beforeAll(async () => {
  server = await startS3rver();
  proxy = await startCountingProxy(server.endpoint);
  store = new S3Store({ ...s3rverStoreOptions(server, 'team'), endpoint: proxy.endpoint });
});

afterAll(async () => {
  store.destroy();
  await proxy.stop();
  await server.stop();
});

/** The S3 error name of a rejected request. */
async function s3ErrorOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (error) {
    return (error as { name: string }).name;
  }
  throw new Error('the request succeeded');
}

/** A CRC32 in S3's notation, wrong for any body but the one it was made of. */
const WRONG_CRC32 = 'AAAAAA==';

describe('S3 checksums', () => {
  it('the stand-in refuses an object or part whose bytes do not match the CRC32 sent with them, a part without its CRC32 to an upload created with CRC32, and a completion naming a part wrongly or not at all, as S3 does', async () => {
    // Prepare
    const { client, bucket } = store;
    const upload = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'team/refused/multi', ChecksumAlgorithm: 'CRC32' }));
    const part = await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'team/refused/multi', UploadId: upload.UploadId, PartNumber: 1, Body: Buffer.from('part one'), ChecksumAlgorithm: 'CRC32' }));
    const plain = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'team/refused/plain' }));
    const complete = (Parts: Array<{ PartNumber: number; ETag?: string; ChecksumCRC32?: string }>) => client.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'team/refused/multi', UploadId: upload.UploadId, MultipartUpload: { Parts },
    }));

    // Act
    const badObject = await s3ErrorOf(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'team/refused/object', Body: Buffer.from('body'), ChecksumCRC32: WRONG_CRC32 })));
    const badPart = await s3ErrorOf(client.send(new UploadPartCommand({ Bucket: bucket, Key: 'team/refused/multi', UploadId: upload.UploadId, PartNumber: 2, Body: Buffer.from('part two'), ChecksumCRC32: WRONG_CRC32 })));
    const unaskedPart = await s3ErrorOf(client.send(new UploadPartCommand({ Bucket: bucket, Key: 'team/refused/plain', UploadId: plain.UploadId, PartNumber: 1, Body: Buffer.from('part'), ChecksumAlgorithm: 'CRC32' })));
    const wrongCompletion = await s3ErrorOf(complete([{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: WRONG_CRC32 }]));
    const unnamedCompletion = await s3ErrorOf(complete([{ PartNumber: 1, ETag: part.ETag }]));
    const unsummedPart = await s3ErrorOf(client.send(new UploadPartCommand({ Bucket: bucket, Key: 'team/refused/multi', UploadId: upload.UploadId, PartNumber: 3, Body: Buffer.from('part three') })));

    // Assess
    expect([badObject, badPart, unaskedPart, unsummedPart, wrongCompletion, unnamedCompletion]).toEqual(['BadDigest', 'BadDigest', 'InvalidRequest', 'InvalidRequest', 'InvalidPart', 'InvalidRequest']);
    expect(part.ChecksumCRC32).toBeDefined();
    expect(await store.head('refused/object')).toBeUndefined();
    expect(await store.head('refused/multi')).toBeUndefined();
  });

  it('put returns the checksum S3 keeps for a whole object and a multipart one, as computed from the bytes hashed; head reports it, when asked, until the object is replaced', async () => {
    // Prepare
    const big = randomBytes(9 * MiB); // two parts

    // Act
    const small = await store.put('kept/small', 'small body');
    const multipart = await store.put('kept/big', Readable.from([big.subarray(0, 3 * MiB), big.subarray(3 * MiB)]));
    const heads = [await store.head('kept/small', { checksum: true }), await store.head('kept/big', { checksum: true })];
    const plainHead = await store.head('kept/big');
    await store.put('kept/small', 'another body');
    const replaced = await store.head('kept/small', { checksum: true });
    await store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: 'team/kept/small', Body: Buffer.from('no checksum asked') }));
    const unchecked = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: 'team/kept/small', ChecksumMode: 'ENABLED' }));

    // Assess
    expect(small.checksum).toMatch(/^crc32:[A-Za-z0-9+/]{6}==$/);
    expect(multipart.checksum).toMatch(/^crc32:[A-Za-z0-9+/]{6}==-2$/);
    expect(heads.map((h) => h?.checksum)).toEqual([small.checksum, multipart.checksum]);
    expect(plainHead?.size).toBe(9 * MiB);
    expect(plainHead?.checksum).toBeUndefined();
    expect(replaced?.checksum).toBeDefined();
    expect(replaced?.checksum).not.toBe(small.checksum);
    expect(unchecked.ChecksumCRC32).toBeUndefined();
  });

  it('computes the checksum S3 reports for every size lib-storage cuts differently: empty, one byte, one part exactly, a byte more, two parts exactly', async () => {
    // Prepare: the S3 store's part size (core/store/s3-file-upload.ts DEFAULT_PART_SIZE)
    const part = 8 * MiB;
    const sizes = [0, 1, part, part + 1, 2 * part];

    // Act
    const stored = [];
    for (const size of sizes) stored.push(await store.put(`sizes/${size}`, Readable.from(size === 0 ? [] : [randomBytes(size)])));

    // Assess: kept only when ours equals S3's
    expect(stored.map((s) => s.checksum?.replace(/^crc32:[^-]*/, 'crc32'))).toEqual(['crc32', 'crc32', 'crc32', 'crc32-2', 'crc32-2']);
  });

  it('with checksums turned off (DBBACKUP_S3_CHECKSUMS=false, a server that refuses them), puts send none and keep none: validation reads the object back', async () => {
    // Prepare
    const unchecked = new S3Store({ ...s3rverStoreOptions(server, 'team'), endpoint: proxy.endpoint, checksums: false });
    try {
      const written = await storeSink({ store: unchecked, prefix: 'b3/data/default' }).write('snapshot.db', Readable.from([Buffer.from('no checksum asked')]));
      proxy.reset();

      // Act
      await verifyArtifact('', written, unchecked);
      const head = await unchecked.head(written.key!, { checksum: true });

      // Assess
      expect(written.storeChecksum).toBeUndefined();
      expect(head?.checksum).toBeUndefined();
      expect(proxy.counts().gets).toBe(1);
    } finally {
      unchecked.destroy();
    }
  });

  it('validating artifacts a snapshot wrote straight to S3 reads none of them back: their heads prove them; a replaced one (read back) and a deleted one are caught', async () => {
    // Prepare
    const sink = storeSink({ store, prefix: 'b1/data/default' });
    const written = [
      await sink.write('data/db/t1.000000.tsv.zst', Readable.from([randomBytes(9 * MiB)])),
      await sink.write('data/db/t2.000000.tsv.zst', randomBytes(1000)),
      await sink.write('data/db/t3.000000.tsv.zst', Readable.from([Buffer.from('three')])),
    ];
    proxy.reset();

    // Act
    const sound = await new ArtifactReader('', store).damaged(written);
    const reads = proxy.counts().gets;
    await store.put(written[1]!.key!, randomBytes(1000)); // same size, other bytes
    await store.delete([written[2]!.key!]);
    proxy.reset();
    const damaged = await new ArtifactReader('', store).damaged(written);
    const rereads = proxy.counts().gets;

    // Assess
    expect(written.every((artifact) => artifact.storeChecksum?.startsWith('crc32:'))).toBe(true);
    expect(sound.size).toBe(0);
    expect(reads).toBe(0);
    expect([...damaged.keys()]).toEqual(['data/db/t2.000000.tsv.zst', 'data/db/t3.000000.tsv.zst']);
    expect(rereads).toBe(1); // the replaced one, whose checksum differs: read back, which settles it
    expect(damaged.get('data/db/t2.000000.tsv.zst')).toMatch(/does not match its checksum/);
    expect(damaged.get('data/db/t3.000000.tsv.zst')).toMatch(/is gone from the store/);
  });

  it('an artifact recorded without a store checksum (an older version\'s) is read back and hashed: a changed byte is caught', async () => {
    // Prepare
    const written = await storeSink({ store, prefix: 'b2/data/default' }).write('snapshot.db', Readable.from([Buffer.from('an older snapshot')]));
    const older: ArtifactRef = { name: written.name, size: written.size, sha256: written.sha256, key: written.key };
    proxy.reset();
    await verifyArtifact('', older, store);
    const reads = proxy.counts().gets;
    const file = s3rverObjectPath(server, `team/${written.key!}`);
    const bytes = await readFile(file);
    bytes[0] ^= 1;
    await writeFile(file, bytes);

    // Act
    const error = await verifyArtifact('', older, store).then(() => undefined, (e: { code?: string }) => e);

    // Assess
    expect(reads).toBe(1);
    expect(error?.code).toBe('CHECKSUM_MISMATCH');
  });

  it('putFile (the upload step\'s resumable upload) sends a CRC32 with a whole file and with each part, and returns the checksum S3 keeps, which the object\'s head then proves without a read; with checksums off it keeps none', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-putfile-crc-'));
    const unchecked = new S3Store({ ...s3rverStoreOptions(server, 'team'), endpoint: proxy.endpoint, checksums: false });
    try {
      const [small, big] = [path.join(dir, 'small.bin'), path.join(dir, 'big.bin')];
      await writeFile(small, randomBytes(MiB));
      await writeFile(big, randomBytes(12 * MiB)); // three parts of 5 MiB

      // Act
      const whole = await store.putFile('uploaded/small', small, { checkpointPath: path.join(dir, 'small.cp') });
      const parts = await store.putFile('uploaded/big', big, { checkpointPath: path.join(dir, 'big.cp'), partSize: 5 * MiB });
      const heads = [await store.head('uploaded/small', { checksum: true }), await store.head('uploaded/big', { checksum: true })];
      proxy.reset();
      await verifyArtifact('', { name: 'big.bin', size: parts.size, sha256: parts.sha256, key: 'uploaded/big', storeChecksum: parts.checksum }, store);
      const reads = proxy.counts().gets;
      const without = await unchecked.putFile('uploaded/unchecked', big, { checkpointPath: path.join(dir, 'unchecked.cp'), partSize: 5 * MiB });

      // Assess
      expect(whole.checksum).toMatch(/^crc32:[A-Za-z0-9+/]{6}==$/);
      expect(parts.checksum).toMatch(/^crc32:[A-Za-z0-9+/]{6}==-3$/);
      expect(heads.map((h) => h?.checksum)).toEqual([whole.checksum, parts.checksum]);
      expect(reads).toBe(0);
      expect(without.checksum).toBeUndefined();
      expect((await unchecked.head('uploaded/unchecked', { checksum: true }))?.checksum).toBeUndefined();
    } finally {
      unchecked.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('resumes an upload an older version began (its checkpoint names no checksums): the rest goes without, and the object is whole', async () => {
    // Prepare: part 1 of 3 sent as an older version sent it, and its checkpoint
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-old-checkpoint-'));
    try {
      const file = path.join(dir, 'big.bin');
      const bytes = randomBytes(12 * MiB);
      await writeFile(file, bytes);
      const { client, bucket } = store;
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'team/old/resumed' }));
      const first = await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'team/old/resumed', UploadId: created.UploadId, PartNumber: 1, Body: bytes.subarray(0, 5 * MiB) }));
      const { size, mtimeMs } = await stat(file);
      const checkpointPath = path.join(dir, 'old.cp');
      await writeFile(checkpointPath, JSON.stringify({ bucket, key: 'team/old/resumed', uploadId: created.UploadId, partSize: 5 * MiB, fileSize: size, fileMtimeMs: mtimeMs, parts: [{ PartNumber: 1, ETag: first.ETag }] }));

      // Act
      const result = await store.putFile('old/resumed', file, { checkpointPath, partSize: 5 * MiB });
      const stored = await sha256OfStream(await store.get('old/resumed'));

      // Assess
      expect(result.resumedBytes).toBe(5 * MiB);
      expect(result.checksum).toBeUndefined();
      expect(stored).toBe(createHash('sha256').update(bytes).digest('hex'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
