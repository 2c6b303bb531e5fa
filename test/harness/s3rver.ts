/**
 * A real s3rver (S3-compatible server, v3.7.1) on 127.0.0.1, in its own Node process, storing its
 * objects in a fresh temp directory, with one bucket created.
 *
 * Why a child process: s3rver signs ListObjectsV2 continuation tokens with DES, which Node 20's
 * OpenSSL 3 only provides with `--openssl-legacy-provider`; in-process, any truncated listing fails
 * with InternalError. It also keeps the server's CPU off the test's (and benchmark's) event loop.
 * The kernel picks the port (listen on 0), so there is no window for another process to take it.
 * The child exits when its stdin closes, so it never outlives the process that started it.
 *
 * Three shims make it behave as S3 does where the store relies on it: delimited listings grouped as
 * S3 groups them, an object readable whole as soon as its PUT is answered (read-after-write), and
 * S3's CRC32 checksums (s3rver-checksums.js: verified on receipt, reported on HEAD). The store never relies on ListParts, ListMultipartUploads or AbortMultipartUpload (it
 * tolerates the last one failing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { S3StoreOptions } from '../../core/store/s3-store';
import { tempDir } from './test-run';

/** A running s3rver. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps objects: `<directory>/<bucket>/<key>._S3rver_object`. */
  directory: string;
  /** The server's process id. */
  pid: number;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
}

/** The program the child runs: start s3rver, print its port, exit when stdin closes. */
const SERVER_PROGRAM = `
const S3rver = require(process.env.S3RVER_MODULE);
// s3rver never looks below the first folder under a delimited listing's prefix, so a folder that
// holds only folders (backups/<engine>/ holds instances) goes unreported; S3 reports it. Delimited
// listings are grouped here as S3 groups them, all in one page (the stand-in does not page them).
const FilesystemStore = require(require('path').join(require('path').dirname(process.env.S3RVER_MODULE), 'stores', 'filesystem.js'));
const listObjects = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function delimited(bucket, options) {
  if (!options.delimiter) return listObjects.call(this, bucket, options);
  const all = await listObjects.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
  const prefix = options.prefix || '';
  const commonPrefixes = new Set();
  const objects = all.objects.filter((object) => {
    const at = object.key.indexOf(options.delimiter, prefix.length);
    if (at < 0) return true;
    commonPrefixes.add(object.key.slice(0, at + options.delimiter.length));
    return false;
  });
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated: false };
};
// s3rver answers a PUT before the object's file is written (for a whole buffer it does not wait
// at all), so a GET right after it, on a busy disk, read a short object and ended cleanly. S3 is
// read-after-write consistent: here the object is written to a file of its own and renamed into
// place before the PUT is answered, so no reader sees part of it (its metadata follows just after:
// a GET racing an overwrite may pair the new bytes with the old metadata, which no test does).
const { pipeline } = require('stream/promises');
const { Readable, Transform } = require('stream');
let partials = 0;
FilesystemStore.prototype.putObject = async function writtenBeforeAnswered(object) {
  const fs = require('fs');
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(require('path').dirname(objectPath), { recursive: true });
  const partial = objectPath + '.' + process.pid + '-' + (partials += 1) + '.partial';
  const md5 = require('crypto').createHash('md5');
  let size = 0;
  const counting = new Transform({ transform(chunk, encoding, callback) { md5.update(chunk); size += chunk.length; callback(null, chunk); } });
  const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  try {
    await pipeline(content, counting, fs.createWriteStream(partial));
    await fs.promises.rename(partial, objectPath);
  } catch (error) {
    await fs.promises.rm(partial, { force: true });
    throw error;
  }
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true,
  directory: process.env.S3RVER_DIRECTORY,
  configureBuckets: [{ name: process.env.S3RVER_BUCKET }],
});
// S3's CRC32 checksums (s3rver-checksums.js), after s3rver's logger and XML encoder, before its routes.
const s3rverDir = require('path').dirname(process.env.S3RVER_MODULE);
const S3Error = require(require('path').join(s3rverDir, 'models', 'error.js'));
const xmlParser = require(require.resolve('fast-xml-parser', { paths: [s3rverDir] }));
server.middleware.splice(2, 0, require(process.env.S3RVER_CHECKSUMS)(S3Error, xmlParser));
server.run().then(
  (address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'),
  (error) => { process.stderr.write(String(error && error.stack || error) + '\\n'); process.exit(1); },
);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** Starts s3rver with `bucket` created. */
export async function startS3rver(bucket = 'backups'): Promise<S3rverHandle> {
  const directory = await tempDir('s3rver');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', SERVER_PROGRAM], {
    env: {
      PATH: process.env.PATH,
      S3RVER_MODULE: require.resolve('s3rver'),
      S3RVER_CHECKSUMS: path.join(__dirname, 's3rver-checksums.js'),
      S3RVER_DIRECTORY: directory,
      S3RVER_BUCKET: bucket,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let port: number;
  try {
    port = await readPort(child);
  } catch (error) {
    await killAndWait(child);
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    directory,
    pid: child.pid ?? -1,
    async stop() {
      await killAndWait(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Waits for the child's `{ port }` line; rejects with its stderr if it exits first. */
function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', function keepStderr(chunk: Buffer) {
      stderr += chunk.toString();
    });
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', function gotPort(line) {
      lines.close();
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', function exitedEarly(code) {
      reject(new Error(`s3rver exited with code ${code} before listening: ${stderr.trim()}`));
    });
    child.once('error', reject);
  });
}

/** SIGTERMs the child (by its own pid) and waits for it to exit. */
function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

/** S3Store options that reach `server` (s3rver's fixed credentials, path-style URLs). */
export function s3rverStoreOptions(server: Pick<S3rverHandle, 'endpoint' | 'bucket'>, prefix?: string): S3StoreOptions {
  return {
    bucket: server.bucket,
    prefix,
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
}

/** Path of the file in which s3rver stores `objectKey` (for tampering with it in tests). */
export function s3rverObjectPath(server: Pick<S3rverHandle, 'directory' | 'bucket'>, objectKey: string): string {
  return path.join(server.directory, server.bucket, `${objectKey}._S3rver_object`);
}
