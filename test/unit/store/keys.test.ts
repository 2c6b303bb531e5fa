import { PermanentError } from '../../../core/errors';
import { assertSafeKey, assertSafePrefix } from '../../../core/store/keys';

describe('assertSafeKey', () => {
  it.each(['manifest.json', 'etcd/prod/2026-01-01/data/snapshot.db', 'a-b_c.d/e f', 'pool/sha256/ab/abcdef'])(
    'accepts the plain relative key %j',
    (key) => {
      // Act
      const check = () => assertSafeKey(key);

      // Assess
      expect(check).not.toThrow();
    },
  );

  it.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['../outside', "'..'"],
    ['a/../../b', "'..'"],
    ['a/./b', "'.'"],
    ['a\\b', 'backslash'],
    ['a//b', 'empty path segment'],
    ['a/', 'empty path segment'],
    ['C:/windows', 'drive letter'],
    ['a\nb', 'control character'],
  ])('refuses %j as INVALID_KEY (%s) and names the key', (key, why) => {
    // Act
    let caught: unknown;
    try {
      assertSafeKey(key);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(PermanentError);
    expect((caught as PermanentError).code).toBe('INVALID_KEY');
    expect((caught as PermanentError).message).toContain(JSON.stringify(key));
    expect((caught as PermanentError).message).toContain(why);
  });
});

describe('assertSafePrefix', () => {
  it.each(['', 'backups/', 'backups/etcd', 'backups/etcd/2026-'])('accepts the listing prefix %j', (prefix) => {
    // Act
    const check = () => assertSafePrefix(prefix);

    // Assess
    expect(check).not.toThrow();
  });

  it.each(['../', '/abs/', 'a/../', 'a//'])('refuses the listing prefix %j', (prefix) => {
    // Act
    const check = () => assertSafePrefix(prefix);

    // Assess
    expect(check).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });
});
