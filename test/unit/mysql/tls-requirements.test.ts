import { namesTlsStrings, withTlsStringsEscaped } from '../../../drivers/mysql/logical/tls-requirements';

describe('withTlsStringsEscaped', () => {
  const strings = { ISSUER: '/C=a\\b', SUBJECT: "/CN=x'y", CIPHER: 'AES256-SHA' };

  it('writes each string MariaDB printed verbatim as a literal, in CREATE USER and GRANT alike', () => {
    // Act
    const results = [
      "CREATE USER `u`@`%` REQUIRE ISSUER '/C=a\\b' SUBJECT '/CN=x'y' CIPHER 'AES256-SHA'",
      "GRANT USAGE ON *.* TO `u`@`%` REQUIRE ISSUER '/C=a\\b' SUBJECT '/CN=x'y' CIPHER 'AES256-SHA'",
    ].map((statement) => withTlsStringsEscaped(statement, strings));

    // Assess
    expect(results).toEqual([
      "CREATE USER `u`@`%` REQUIRE ISSUER '/C=a\\\\b' SUBJECT '/CN=x\\'y' CIPHER 'AES256-SHA'",
      "GRANT USAGE ON *.* TO `u`@`%` REQUIRE ISSUER '/C=a\\\\b' SUBJECT '/CN=x\\'y' CIPHER 'AES256-SHA'",
    ]);
  });

  it('leaves a statement that already escapes them (MySQL), or names none, as it is', () => {
    const escaped = "CREATE USER `u`@`%` REQUIRE ISSUER '/C=a\\\\b' SUBJECT '/CN=x\\'y'";
    expect(withTlsStringsEscaped(escaped, strings)).toBe(escaped);
    expect(withTlsStringsEscaped('CREATE USER `u`@`%` REQUIRE SSL', strings)).toBe('CREATE USER `u`@`%` REQUIRE SSL');
    expect([namesTlsStrings("CREATE USER `u`@`%` REQUIRE SUBJECT 'x'"), namesTlsStrings('CREATE USER `u`@`%` REQUIRE SSL')]).toEqual([true, false]);
  });
});
