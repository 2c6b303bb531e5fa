/** The backup's accounts as a restore reads them: the plugins they authenticate with, and each CREATE USER applied again after the grants, as the ALTER USER the server takes. */
import { authPluginsOf, withAccountsAsCreated } from '../../../drivers/mysql/logical/target-accounts';

describe('withAccountsAsCreated', () => {
  it('applies each account\'s CREATE USER again as ALTER USER after the grants, without MySQL 8\'s DEFAULT ROLE clause (ALTER USER takes it only alone)', () => {
    // Prepare: users.sql as a MariaDB and a MySQL 8 source write it
    const statements = [
      'CREATE ROLE IF NOT EXISTS `reader`',
      "CREATE USER IF NOT EXISTS `shop_intern`@`localhost` IDENTIFIED BY PASSWORD '*FB570FD7BFC5874C9CA4E411C526146CCAEAC578' ACCOUNT LOCK PASSWORD EXPIRE",
      "CREATE USER IF NOT EXISTS `app`@`%` IDENTIFIED WITH 'caching_sha2_password' AS 'hash' DEFAULT ROLE `reader`@`%`,`writer`@`%` REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK",
      'GRANT USAGE ON *.* TO `shop_intern`@`localhost` IDENTIFIED BY PASSWORD \'*FB570FD7BFC5874C9CA4E411C526146CCAEAC578\'',
    ];

    // Act
    const applied = withAccountsAsCreated(statements);

    // Assess
    expect(applied.slice(0, statements.length)).toEqual(statements);
    expect(applied.slice(statements.length)).toEqual([
      "ALTER USER `shop_intern`@`localhost` IDENTIFIED BY PASSWORD '*FB570FD7BFC5874C9CA4E411C526146CCAEAC578' ACCOUNT LOCK PASSWORD EXPIRE",
      "ALTER USER `app`@`%` IDENTIFIED WITH 'caching_sha2_password' AS 'hash' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK",
    ]);
  });
});

describe('authPluginsOf', () => {
  it('reads the plugins a CREATE USER names, MariaDB\'s and MySQL\'s forms, and none from a password alone, nor from resource limits or attributes after them', () => {
    expect([
      authPluginsOf("CREATE USER `a`@`%` IDENTIFIED VIA ed25519 USING 'ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY' OR unix_socket"),
      authPluginsOf("CREATE USER 'b'@'%' IDENTIFIED WITH 'caching_sha2_password' AS '$A$005$x' REQUIRE NONE"),
      authPluginsOf("CREATE USER `c`@`%` IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'"),
      authPluginsOf('CREATE USER `d`@`%` PASSWORD EXPIRE'),
      authPluginsOf("CREATE USER `e`@`%` IDENTIFIED VIA ed25519 USING 'a OR b' REQUIRE NONE WITH MAX_QUERIES_PER_HOUR 10 MAX_USER_CONNECTIONS 2"),
      authPluginsOf("CREATE USER 'f'@'%' IDENTIFIED WITH 'mysql_native_password' AS '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19' ATTRIBUTE '{\"x\": \"a or b\"}'"),
      authPluginsOf("CREATE USER `g`@`%` IDENTIFIED VIA mysql_native_password USING PASSWORD('it''s') OR unix_socket WITH MAX_QUERIES_PER_HOUR 1"),
    ]).toEqual([['ed25519', 'unix_socket'], ['caching_sha2_password'], [], [], ['ed25519'], ['mysql_native_password'], ['mysql_native_password', 'unix_socket']]);
  });
});
