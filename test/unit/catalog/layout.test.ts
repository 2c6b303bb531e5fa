/** The store layout's pool keys: built from checked names and sha256s, and recognised exactly. */
import { createHash } from 'node:crypto';
import { POOL_ROOT, isPoolKeyOf, parsePoolKey, poolKey, poolPrefix } from '../../../core/catalog/layout';

const SHA = createHash('sha256').update('an SSTable component').digest('hex');

describe('pool keys', () => {
  it('are pool/<engine>/<instance>/<sha256>, under the instance\'s pool prefix', () => {
    // Act
    const prefix = poolPrefix('cassandra', 'ring-1');
    const key = poolKey('cassandra', 'ring-1', SHA);

    // Assess
    expect(POOL_ROOT).toBe('pool');
    expect(prefix).toBe('pool/cassandra/ring-1');
    expect(key).toBe(`pool/cassandra/ring-1/${SHA}`);
  });

  it('refuse names that are not one key segment and digests that are not lower-case hex sha256', () => {
    // Act + Assess
    expect(() => poolPrefix('cassandra', 'a/b')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => poolPrefix('..', 'a')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => poolKey('cassandra', 'a', SHA.toUpperCase())).toThrow(expect.objectContaining({ code: 'INVALID_SHA256' }));
    expect(() => poolKey('cassandra', 'a', SHA.slice(1))).toThrow(expect.objectContaining({ code: 'INVALID_SHA256' }));
    expect(() => poolKey('cassandra', 'a', '../../backups')).toThrow(expect.objectContaining({ code: 'INVALID_SHA256' }));
  });

  it('parse back into their parts; anything else is not a pool key', () => {
    // Act + Assess
    expect(parsePoolKey(poolKey('cassandra', 'a', SHA))).toEqual({ engine: 'cassandra', instance: 'a', sha256: SHA });
    expect(parsePoolKey(`backups/cassandra/a/${SHA}`)).toBeUndefined();
    expect(parsePoolKey(`pool/cassandra/a/${SHA}/x`)).toBeUndefined();
    expect(parsePoolKey(`pool/cassandra/${SHA}`)).toBeUndefined();
    expect(parsePoolKey(`pool/cassandra/a/${SHA.toUpperCase()}`)).toBeUndefined();
    expect(parsePoolKey(`pool/cassandra/../${SHA}`)).toBeUndefined();
  });

  it('belong to exactly one engine, instance and sha256', () => {
    // Prepare
    const key = poolKey('cassandra', 'a', SHA);
    const other = createHash('sha256').update('other').digest('hex');

    // Act + Assess
    expect(isPoolKeyOf(key, 'cassandra', 'a', SHA)).toBe(true);
    expect(isPoolKeyOf(key, 'cassandra', 'ab', SHA)).toBe(false);
    expect(isPoolKeyOf(poolKey('cassandra', 'ab', SHA), 'cassandra', 'a', SHA)).toBe(false);
    expect(isPoolKeyOf(key, 'mysql', 'a', SHA)).toBe(false);
    expect(isPoolKeyOf(key, 'cassandra', 'a', other)).toBe(false);
  });
});
