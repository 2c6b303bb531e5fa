import { PermanentError, TransientError, classify } from '../../../core/errors';
import { mapMysqlError, missingPrivilege, toMysqlError } from '../../../drivers/mysql/shared/errors';

/** An error shaped like mysql2's: message, code, errno, sqlState, sqlMessage, fatal. */
function serverError(errno: number, code: string, message: string, fatal = false): Error {
  return Object.assign(new Error(message), { errno, code, sqlState: 'HY000', sqlMessage: message, fatal });
}

function clientError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, fatal: true });
}

describe('mapMysqlError', () => {
  it.each([
    ['a wrong password', serverError(1045, 'ER_ACCESS_DENIED_ERROR', "Access denied for user 'backup'@'localhost' (using password: YES)", true)],
    ['a host not allowed', serverError(1130, 'ER_HOST_NOT_PRIVILEGED', "Host '10.0.0.9' is not allowed to connect to this MariaDB server", true)],
    ['no password given where one is needed', serverError(1698, 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', "Access denied for user 'root'@'localhost'", true)],
    ['an auth plugin the client cannot do', clientError('AUTH_SWITCH_PLUGIN_ERROR', 'Server requests authentication using unknown plugin sha256_password')],
    ['only the message (crossed a process boundary)', new Error("Access denied for user 'backup'@'10.0.0.1' (using password: YES)")],
  ])('maps %s to PermanentError AUTH_FAILED, naming MYSQL_AUTH', (_label, error) => {
    // Act
    const mapped = mapMysqlError(error);

    // Assess
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped).toMatchObject({ name: 'PermanentError', code: 'AUTH_FAILED', engine: 'mysql', message: expect.stringMatching(/^authentication failed \(MYSQL_AUTH\): /) });
    expect(mapped?.message).toContain('refused the login');
  });

  it.each([
    ['a missing RELOAD (lock)', serverError(1227, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'Access denied; you need (at least one of) the RELOAD privilege(s) for this operation'), 'RELOAD'],
    ['a missing BINLOG MONITOR', serverError(1227, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'Access denied; you need (at least one of) the BINLOG MONITOR privilege(s) for this operation'), 'BINLOG MONITOR'],
    ['a missing BACKUP_ADMIN (MySQL)', serverError(1227, 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'Access denied; you need (at least one of) the BACKUP_ADMIN privilege(s) for this operation'), 'BACKUP_ADMIN'],
    ['a missing SELECT on a table', serverError(1142, 'ER_TABLEACCESS_DENIED_ERROR', "SELECT command denied to user 'backup'@'localhost' for table `shop`.`orders`"), 'SELECT'],
    ['a missing SHOW VIEW', serverError(1142, 'ER_TABLEACCESS_DENIED_ERROR', "SHOW VIEW command denied to user 'backup'@'localhost' for table `shop`.`customer_totals`"), 'SHOW VIEW'],
    ['no access to a database', serverError(1044, 'ER_DBACCESS_DENIED_ERROR', "Access denied for user 'backup'@'%' to database 'shop'"), 'access to database shop'],
    ['a missing EXECUTE on a routine', serverError(1370, 'ER_PROCACCESS_DENIED_ERROR', "execute command denied to user 'backup'@'localhost' for routine 'shop.with_tax'"), 'EXECUTE'],
    ['only the message', new Error('Access denied; you need (at least one of) the RELOAD privilege(s) for this operation'), 'RELOAD'],
  ])('maps %s to PermanentError MYSQL_PRIVILEGES naming the privilege', (_label, error, privilege) => {
    // Act
    const mapped = mapMysqlError(error);

    // Assess
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped).toMatchObject({ code: 'MYSQL_PRIVILEGES', engine: 'mysql' });
    expect(mapped?.message).toMatch(new RegExp(`^missing privilege ${privilege}: `));
  });

  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED', errno: -111, fatal: true })],
    ['a connect timeout', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', fatal: true })],
    ['a lost connection', clientError('PROTOCOL_CONNECTION_LOST', 'Connection lost: The server closed the connection.')],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104 })],
    ['a server shutting down', serverError(1053, 'ER_SERVER_SHUTDOWN', 'Server shutdown in progress', true)],
    ['a killed connection (MariaDB 1927)', serverError(1927, 'ER_UNKNOWN', 'Connection was killed', true)],
    ['a query killed', serverError(1317, 'ER_QUERY_INTERRUPTED', 'Query execution was interrupted')],
    ['a command on a closed connection', new Error("Can't add new command when connection is in closed state")],
  ])('maps %s to TransientError MYSQL_UNAVAILABLE', (_label, error) => {
    // Act
    const mapped = mapMysqlError(error);

    // Assess
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped).toMatchObject({ name: 'TransientError', code: 'MYSQL_UNAVAILABLE', engine: 'mysql' });
  });

  it.each([
    ['too many connections', serverError(1040, 'ER_CON_COUNT_ERROR', 'Too many connections', true)],
    ['too many connections for the user', serverError(1203, 'ER_TOO_MANY_USER_CONNECTIONS', "User backup already has more than 'max_user_connections' active connections")],
    ['a lock wait timeout (FTWRL waiting)', serverError(1205, 'ER_LOCK_WAIT_TIMEOUT', 'Lock wait timeout exceeded; try restarting transaction')],
    ['a deadlock', serverError(1213, 'ER_LOCK_DEADLOCK', 'Deadlock found when trying to get lock; try restarting transaction')],
    ['a table changed under the snapshot', serverError(1412, 'ER_TABLE_DEF_CHANGED', 'Table definition has changed, please retry transaction')],
  ])('maps %s to TransientError MYSQL_BUSY', (_label, error) => {
    // Act
    const mapped = mapMysqlError(error);

    // Assess
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped).toMatchObject({ code: 'MYSQL_BUSY' });
  });

  it('maps an unknown host to PermanentError UNKNOWN_HOST, the code every engine uses', () => {
    // Prepare
    const error = Object.assign(new Error('getaddrinfo ENOTFOUND db.invalid'), { code: 'ENOTFOUND' });

    // Act
    const mapped = mapMysqlError(error);

    // Assess
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped).toMatchObject({ code: 'UNKNOWN_HOST', message: expect.stringContaining('MYSQL_UNKNOWN_HOST') });
    expect(mapMysqlError(Object.assign(new Error('getaddrinfo EAI_AGAIN db.example'), { code: 'EAI_AGAIN' }))).toBeInstanceOf(TransientError);
  });

  it('follows a cause, passes classified errors through, and leaves unknown errors to the framework', () => {
    // Prepare
    const own = new TransientError('x', { code: 'X' });
    const wrapped = new Error('dump failed', { cause: serverError(1205, 'ER_LOCK_WAIT_TIMEOUT', 'Lock wait timeout exceeded; try restarting transaction') });
    const syntax = serverError(1064, 'ER_PARSE_ERROR', 'You have an error in your SQL syntax');

    // Act
    const fromCause = mapMysqlError(wrapped);
    const passed = mapMysqlError(own);
    const unknown = mapMysqlError(syntax);
    const classified = classify(syntax, mapMysqlError, 'mysql');

    // Assess
    expect(fromCause).toMatchObject({ name: 'TransientError', code: 'MYSQL_BUSY' });
    expect(passed).toBe(own);
    expect(unknown).toBeUndefined();
    expect(mapMysqlError('a string')).toBeUndefined();
    expect(classified).toMatchObject({ name: 'PermanentError', code: 'UNKNOWN' });
  });
});

describe('missingPrivilege', () => {
  it('reads the privilege from each kind of denial and nothing from other messages', () => {
    expect(missingPrivilege('Access denied; you need (at least one of) the SUPER, RELOAD privilege(s) for this operation')).toBe('SUPER, RELOAD');
    expect(missingPrivilege("TRIGGER command denied to user 'b'@'h' for table `shop`.`orders`")).toBe('TRIGGER');
    expect(missingPrivilege("Access denied for user 'b'@'%' to database 'my db'")).toBe('access to database my db');
    expect(missingPrivilege('Table definition has changed')).toBeUndefined();
  });
});

describe('toMysqlError', () => {
  it('prefixes what was being done, keeps the classification, and falls back to a permanent code', () => {
    // Prepare
    const lost = clientError('PROTOCOL_CONNECTION_LOST', 'Connection lost: The server closed the connection.');
    const odd = new Error('something odd');

    // Act
    const transient = toMysqlError(lost, 'dumping shop.big chunk 3');
    const permanent = toMysqlError(odd, 'capturing the schema of shop', 'MYSQL_SCHEMA_FAILED');

    // Assess
    expect(transient).toBeInstanceOf(TransientError);
    expect(transient).toMatchObject({ code: 'MYSQL_UNAVAILABLE', message: expect.stringMatching(/^dumping shop\.big chunk 3: the server is unavailable: Connection lost/) });
    expect(permanent).toBeInstanceOf(PermanentError);
    expect(permanent).toMatchObject({ code: 'MYSQL_SCHEMA_FAILED', message: 'capturing the schema of shop: something odd' });
  });
});
