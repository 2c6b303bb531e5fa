/**
 * S3's CRC32 checksums, added to s3rver (which has none) as S3 keeps them — so that code relying
 * on them is tested against a stand-in that verifies and reports them as AWS does, no kinder:
 *
 * - a PutObject or UploadPart sent with `x-amz-checksum-crc32` is refused with `BadDigest` (and
 *   nothing stored) when its body does not have that CRC32; the response echoes the checksum; a
 *   part with one, of an upload created without, is refused (`InvalidRequest`), and so is a part
 *   without one, of an upload created with CRC32 (a COMPOSITE upload, as ours are);
 * - a multipart upload created with `x-amz-checksum-algorithm: CRC32` must name each part's CRC32
 *   in its CompleteMultipartUpload (`InvalidRequest` when one is missing), as the parts were
 *   received (`InvalidPart` otherwise); the object's checksum is then COMPOSITE: the CRC32 of the
 *   parts' CRC32s, `-<parts>` (as S3);
 * - HeadObject and GetObject with `x-amz-checksum-mode: ENABLED` report an object's checksum and
 *   its type; an object written without one (or copied) reports none.
 *
 * Loaded by the s3rver child (s3rver.ts) as a Koa middleware placed after s3rver's XML encoder.
 * Path-style requests only (`/<bucket>/<key>`), as the harness's clients send.
 */
'use strict';

const { crc32 } = require('node:zlib');
const { Readable } = require('node:stream');

/** The base64 of a CRC32 as S3 writes it: 4 bytes, big-endian. */
function crcBase64(value) {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

async function bodyOf(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The middleware, with `S3Error` (s3rver's error model) and `xmlParser` (fast-xml-parser, as s3rver has it). */
module.exports = function s3rverChecksums(S3Error, xmlParser) {
  /** `/<bucket>/<key>` → { base64, type } */
  const objects = new Map();
  /** uploadId → Map(partNumber → base64), for uploads created with CRC32 */
  const uploads = new Map();

  return async function checksums(ctx, next) {
    const [, bucket, ...rest] = ctx.path.split('/');
    const key = rest.length > 0 ? decodeURIComponent(rest.join('/')) : '';
    if (!bucket || !key) return next();
    const object = `/${bucket}/${key}`;
    const { uploadId, partNumber } = ctx.query;
    const method = ctx.method;

    if (method === 'PUT' && !ctx.headers['x-amz-copy-source']) {
      const claimed = ctx.headers['x-amz-checksum-crc32'];
      const body = await bodyOf(ctx.req);
      const actual = crcBase64(crc32(body));
      if (claimed !== undefined && claimed !== actual) {
        throw new S3Error('BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
      }
      if (partNumber !== undefined && uploadId !== undefined && claimed !== undefined && !uploads.has(uploadId)) {
        throw new S3Error('InvalidRequest', 'Checksum Type mismatch occurred, expected checksum Type: null, actual checksum Type: crc32');
      }
      if (partNumber !== undefined && uploadId !== undefined && claimed === undefined && uploads.has(uploadId)) {
        throw new S3Error('InvalidRequest', 'Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: null');
      }
      const replayed = Readable.from([body]);
      replayed.headers = ctx.req.headers;
      ctx.req = replayed;
      if (partNumber !== undefined && uploadId !== undefined) {
        await next();
        uploads.get(uploadId)?.set(Number(partNumber), actual);
        if (claimed !== undefined) ctx.set('x-amz-checksum-crc32', actual);
        return;
      }
      await next();
      if (claimed !== undefined) {
        objects.set(object, { base64: actual, type: 'FULL_OBJECT' });
        ctx.set('x-amz-checksum-crc32', actual);
      } else {
        objects.delete(object);
      }
      return;
    }
    if (method === 'PUT') { // a copy: s3rver copies no checksum
      await next();
      objects.delete(object);
      return;
    }

    if (method === 'POST' && 'uploads' in ctx.query) {
      await next();
      if ((ctx.headers['x-amz-checksum-algorithm'] || '').toUpperCase() === 'CRC32') {
        uploads.set(ctx.body.InitiateMultipartUploadResult.UploadId, new Map());
        ctx.set('x-amz-checksum-algorithm', 'CRC32');
        ctx.set('x-amz-checksum-type', 'COMPOSITE');
      }
      return;
    }

    if (method === 'POST' && uploadId !== undefined) {
      const parts = uploads.get(uploadId);
      if (!parts) {
        await next();
        objects.delete(object);
        return;
      }
      const xml = await bodyOf(ctx.req);
      const listed = [].concat(xmlParser.parse(xml.toString('utf8'))?.CompleteMultipartUpload?.Part ?? []);
      const raw = [];
      for (const part of listed) {
        if (part.ChecksumCRC32 === undefined) {
          throw new S3Error('InvalidRequest', `The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part ${part.PartNumber} in the request.`);
        }
        const received = parts.get(Number(part.PartNumber));
        if (received === undefined || part.ChecksumCRC32 !== received) {
          throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part\'s entity tag.');
        }
        raw.push(Buffer.from(received, 'base64'));
      }
      const replayed = Readable.from([xml]);
      replayed.headers = ctx.req.headers;
      ctx.req = replayed;
      await next();
      const composite = `${crcBase64(crc32(Buffer.concat(raw)))}-${raw.length}`;
      uploads.delete(uploadId);
      objects.set(object, { base64: composite, type: 'COMPOSITE' });
      if (ctx.body && ctx.body.CompleteMultipartUploadResult) {
        ctx.body.CompleteMultipartUploadResult.ChecksumCRC32 = composite;
        ctx.body.CompleteMultipartUploadResult.ChecksumType = 'COMPOSITE';
      }
      return;
    }

    await next();
    if ((method === 'HEAD' || method === 'GET') && ctx.status === 200 && ctx.headers['x-amz-checksum-mode'] === 'ENABLED') {
      const known = objects.get(object);
      if (known) {
        ctx.set('x-amz-checksum-crc32', known.base64);
        ctx.set('x-amz-checksum-type', known.type);
      }
    }
  };
};
