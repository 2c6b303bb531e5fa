/**
 * Client-side encryption of an artifact as a stream: AES-256-GCM in authenticated segments (the
 * STREAM construction, as Tink's AES-GCM-HKDF streaming AEAD), so memory stays flat whatever the
 * artifact's size and any damage is found at the segment it is in.
 *
 * Layout: a header — `DBS1`, a 32-byte salt, a 7-byte nonce prefix — then the plaintext in
 * segments of {@link SEGMENT_BYTES} (the last one shorter, possibly empty), each encrypted with
 * its 16-byte tag appended. Each artifact gets its own key, HKDF-SHA256 of the backup's data key,
 * the salt and the artifact's name; segment `i` uses the nonce `prefix ‖ i (32 bits) ‖ last`, the
 * last byte 1 only on the final segment. So a flipped byte, a truncated or extended artifact,
 * segments reordered or an artifact put under another name each fail authentication; nothing of a
 * segment is released before its tag is checked.
 *
 * The salt and nonce prefix are derived, not drawn: HMAC-SHA256 of the data key over the name and
 * the plaintext's sha256 ({@link sealingParameters}). The same plaintext under the same name and
 * data key is sealed to the same bytes (an interrupted upload resumes, a pool stays deduplicated),
 * while different plaintexts never share a key and nonce.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PermanentError } from '../errors';

export const SEALED_MAGIC = Buffer.from('DBS1');
const SALT_BYTES = 32;
const PREFIX_BYTES = 7;
const TAG_BYTES = 16;
/** Header bytes before the first segment. */
export const HEADER_BYTES = SEALED_MAGIC.length + SALT_BYTES + PREFIX_BYTES;
/** Plaintext bytes per segment (the last may hold fewer, or none). */
export const SEGMENT_BYTES = 1024 * 1024;
/** A data key's length: AES-256. */
export const DATA_KEY_BYTES = 32;

/** The code of every failure to open a sealed artifact: its bytes are not what was sealed, or the key is not the one it was sealed with. */
export const SEALED_DAMAGED = 'SEALED_ARTIFACT_DAMAGED';

/** The stored size of `plainBytes` of plaintext once sealed. */
export function sealedSize(plainBytes: number): number {
  const segments = Math.max(1, Math.ceil(plainBytes / SEGMENT_BYTES));
  return HEADER_BYTES + plainBytes + segments * TAG_BYTES;
}

/** What makes one artifact's sealing unique: its salt and nonce prefix. */
export interface SealingParameters {
  salt: Buffer;
  prefix: Buffer;
}

/**
 * The salt and nonce prefix of artifact `name` whose plaintext hashes to `plainSha256` (hex),
 * under `dataKey`: derived, so sealing is deterministic (see the file comment).
 */
export function sealingParameters(dataKey: Buffer, name: string, plainSha256: string): SealingParameters {
  checkKey(dataKey);
  const mac = createHmac('sha256', dataKey).update('dbbackup sealing parameters\0').update(name).update('\0').update(plainSha256).digest();
  const more = createHmac('sha256', dataKey).update('dbbackup nonce prefix\0').update(mac).digest();
  return { salt: mac, prefix: more.subarray(0, PREFIX_BYTES) };
}

function checkKey(dataKey: Buffer): void {
  if (dataKey.length !== DATA_KEY_BYTES) throw new PermanentError(`a data key is ${DATA_KEY_BYTES} bytes, not ${dataKey.length}`, { code: 'INVALID_KEY' });
}

/** The AES key of one artifact: HKDF-SHA256 of the data key with its salt, bound to its name. */
function artifactKey(dataKey: Buffer, salt: Buffer, name: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, salt, Buffer.concat([Buffer.from('dbbackup sealed artifact\0'), Buffer.from(name)]), DATA_KEY_BYTES));
}

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const out = Buffer.alloc(12);
  prefix.copy(out, 0);
  out.writeUInt32BE(index, PREFIX_BYTES);
  out[11] = last ? 1 : 0;
  return out;
}

/** Segments of a stream: buffers input and hands out full segments, holding the last one back until the end. */
class Segmenter {
  private parts: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): void {
    this.parts.push(chunk);
    this.length += chunk.length;
  }

  /** The next segment of `size` bytes when more than `size` bytes are held (so one is always left for the end). */
  take(size: number): Buffer | undefined {
    if (this.length <= size) return undefined;
    const all = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.length);
    const segment = all.subarray(0, size);
    const rest = all.subarray(size);
    this.parts = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return segment;
  }

  /** What is left. */
  rest(): Buffer {
    const all = Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return all;
  }
}

/**
 * A transform sealing the plaintext of artifact `name` (see the file comment). `parameters` from
 * {@link sealingParameters} (deterministic); the caller may draw them at random instead when the
 * plaintext's hash is not known before it is written (nothing then resumes).
 */
export function sealStream(dataKey: Buffer, name: string, parameters: SealingParameters): Transform {
  checkKey(dataKey);
  const key = artifactKey(dataKey, parameters.salt, name);
  const segments = new Segmenter();
  let index = 0;
  const seal = (plain: Buffer, last: boolean): Buffer => {
    if (index > 0xffffffff) throw new PermanentError(`artifact ${name} is too large to seal (${index} segments)`, { code: 'INVALID_INPUT' });
    const cipher = createCipheriv('aes-256-gcm', key, nonce(parameters.prefix, index, last));
    index += 1;
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
  return new Transform({
    construct(callback) {
      this.push(Buffer.concat([SEALED_MAGIC, parameters.salt, parameters.prefix]));
      callback();
    },
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      segments.push(chunk);
      for (let segment = segments.take(SEGMENT_BYTES); segment; segment = segments.take(SEGMENT_BYTES)) this.push(seal(segment, false));
      callback();
    },
    flush(callback: TransformCallback) {
      callback(null, seal(segments.rest(), true));
    },
  });
}

function damaged(name: string, why: string): PermanentError {
  return new PermanentError(`sealed artifact ${name} cannot be opened: ${why} (its stored bytes were changed, cut short or extended, or it was sealed with another key)`, { code: SEALED_DAMAGED });
}

/**
 * A transform opening sealed artifact `name` with `dataKey`: yields the plaintext segment by
 * segment, each only once its tag is checked. Fails with PermanentError {@link SEALED_DAMAGED}
 * naming the segment for a wrong key, a changed, missing, reordered or extra byte, a missing
 * end, or a stream that is not a sealed artifact.
 */
export function openStream(dataKey: Buffer, name: string): Transform {
  checkKey(dataKey);
  const segments = new Segmenter();
  let header: { key: Buffer; prefix: Buffer } | undefined;
  let index = 0;
  const open = (sealed: Buffer, last: boolean): Buffer => {
    if (sealed.length < TAG_BYTES) throw damaged(name, `segment ${index} is cut short`);
    const decipher = createDecipheriv('aes-256-gcm', header!.key, nonce(header!.prefix, index, last));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      throw damaged(name, last ? `its last segment (${index}) does not authenticate` : `segment ${index} does not authenticate`);
    }
    index += 1;
    return plain;
  };
  let pending = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        if (!header) {
          pending = Buffer.concat([pending, chunk]);
          if (pending.length < HEADER_BYTES) return callback();
          if (!pending.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC)) throw damaged(name, 'it does not start as a sealed artifact');
          const salt = pending.subarray(SEALED_MAGIC.length, SEALED_MAGIC.length + SALT_BYTES);
          header = { key: artifactKey(dataKey, salt, name), prefix: Buffer.from(pending.subarray(SEALED_MAGIC.length + SALT_BYTES, HEADER_BYTES)) };
          chunk = pending.subarray(HEADER_BYTES);
          pending = Buffer.alloc(0);
        }
        segments.push(chunk);
        for (let segment = segments.take(SEGMENT_BYTES + TAG_BYTES); segment; segment = segments.take(SEGMENT_BYTES + TAG_BYTES)) this.push(open(segment, false));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (!header) throw damaged(name, 'it is shorter than a sealed artifact\'s header');
        callback(null, open(segments.rest(), true));
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
