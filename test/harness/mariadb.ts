/**
 * Test harness for the MySQL driver: real MariaDB servers (Debian's 10.11) on free loopback
 * ports in temp dirs, a sample database with everything a dump must get right, and an
 * independent reader of table contents to compare source and restore.
 */
import { rm } from 'node:fs/promises';
import mysql, { type Connection } from 'mysql2/promise';
import { quoteId } from '../../drivers/mysql/shared/connection';
import { startLocalMariaDb, stopServer, type RunningServer } from '../../drivers/mysql/shared/local-server';
import { onFreePorts } from './ports';
import { tempDir } from './test-run';

export interface TestMariaDb extends RunningServer {
  dir: string;
  connect(database?: string): Promise<Connection>;
  /** Connection config for the driver (`{ host, port, user, password }`). */
  config(): { host: string; port: number; user: string; password: string };
}

const started: TestMariaDb[] = [];
const extraPidFiles = new Set<string>();

/** Starts a fresh MariaDB server. */
export async function startTestMariaDb(label = 'src', serverId = 1, extraArgs?: string[]): Promise<TestMariaDb> {
  const dir = await tempDir(`maria-${label}`);
  const server = await onFreePorts(1, ([port]) => startLocalMariaDb({ dir, port, serverId, extraArgs }));
  const handle: TestMariaDb = {
    ...server,
    dir,
    connect: (database?: string) => mysql.createConnection({
      host: server.host, port: server.port, user: 'root', database, multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
    }),
    config: () => ({ host: server.host, port: server.port, user: 'root', password: '' }),
  };
  started.push(handle);
  return handle;
}

/** Also stop, at the end, a server started by the code under test (e.g. a physical restore). */
export function trackServerPidFile(pidFile: string): void {
  extraPidFiles.add(pidFile);
}

/** Stops every server the harness started (and tracked) and removes their directories. */
export async function stopAllMariaDb(): Promise<void> {
  for (const pidFile of extraPidFiles) await stopServer(pidFile).catch(() => undefined);
  extraPidFiles.clear();
  for (const server of started.splice(0)) {
    await server.stop().catch(() => undefined);
    await rm(server.dir, { recursive: true, force: true });
  }
}

/**
 * Creates database `shop` with: InnoDB and MyISAM tables, a table without a primary key, an INVISIBLE column, utf8mb4
 * text (emoji, CJK), BLOBs with every byte value, NULLs, a view, a trigger, a procedure, a function,
 * an event, and `big` with `bigRows` rows (default 20 000; the 1-million-row case passes 1e6).
 */
export async function seedShop(connection: Connection, options: { bigRows?: number; database?: string } = {}): Promise<void> {
  const db = options.database ?? 'shop';
  const bigRows = options.bigRows ?? 20_000;
  await connection.query(`
    CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    USE \`${db}\`;
    CREATE TABLE customers (
      id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL, email VARCHAR(200) NULL,
      note TEXT NULL, created DATETIME(6) NOT NULL, balance DECIMAL(12,2) NOT NULL DEFAULT 0,
      tier INT INVISIBLE NOT NULL DEFAULT 1
    ) ENGINE=InnoDB;
    CREATE TABLE orders (
      id BIGINT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, total DECIMAL(12,2) NOT NULL,
      status ENUM('new','paid','shipped') NOT NULL, KEY (customer_id),
      CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers(id)
    ) ENGINE=InnoDB;
    CREATE TABLE audit_log (id INT PRIMARY KEY AUTO_INCREMENT, message VARCHAR(255) NOT NULL, at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=MyISAM;
    CREATE TABLE blobs (id INT PRIMARY KEY, data LONGBLOB NULL, bits BIT(8) NULL, j JSON NULL) ENGINE=InnoDB;
    CREATE TABLE no_pk (a INT NULL, b VARCHAR(20) NULL) ENGINE=InnoDB;
    CREATE TABLE big (id INT PRIMARY KEY, k INT NOT NULL, pad CHAR(60) NOT NULL, KEY (k)) ENGINE=InnoDB;
    CREATE VIEW customer_totals AS SELECT c.id, c.name, SUM(o.total) AS total FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
    CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit_log (message) VALUES (CONCAT('order ', NEW.id));
    CREATE PROCEDURE mark_paid(IN order_id BIGINT) UPDATE orders SET status = 'paid' WHERE id = order_id;
    CREATE FUNCTION with_tax(amount DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC RETURN amount * 1.2;
    CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit_log WHERE at < NOW() - INTERVAL 30 DAY;
  `);
  const customers = [
    ['Ada Lovelace', 'ada@example.com', 'first programmer', '2026-01-01 10:00:00.123456', '10.50'],
    ['Jürgen Groß', null, 'ümlaut ß', '2026-02-02 11:11:11.000001', '0.00'],
    ['李小龍', 'lee@example.com', '日本語テキスト 🚀 emoji', '2026-03-03 12:12:12', '-5.25'],
    ['Tab\tNew\nLine\\Back', 'x@example.com', null, '2026-04-04 00:00:00', '1.00'],
    ["O'Brien \"quoted\"", '', 'NULL', '2026-05-05 05:05:05', '99999.99'],
  ];
  for (const row of customers) await connection.query('INSERT INTO customers (name, email, note, created, balance) VALUES (?, ?, ?, ?, ?)', row);
  await connection.query('UPDATE customers SET tier = id * 7'); // an INVISIBLE column, left out of SELECT *
  for (let i = 1; i <= 50; i += 1) {
    await connection.query('INSERT INTO orders (customer_id, total, status) VALUES (?, ?, ?)', [(i % 5) + 1, (i * 3.5).toFixed(2), ['new', 'paid', 'shipped'][i % 3]]);
  }
  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await connection.query('INSERT INTO blobs VALUES (1, ?, b\'10101010\', \'{"a": [1, 2, {"b": null}]}\'), (2, NULL, NULL, NULL), (3, ?, b\'0\', \'"\\\\t"\'), (4, \'\', b\'11111111\', \'{}\')', [allBytes, Buffer.alloc(70_000, 0x5c)]);
  await connection.query("INSERT INTO no_pk VALUES (1, 'dup'), (1, 'dup'), (NULL, NULL), (2, '\\\\N'), (3, '')");
  await connection.query(`INSERT INTO big (id, k, pad) SELECT seq, seq MOD 1000, LPAD(seq, 60, 'x') FROM seq_1_to_${bigRows}`);
}

/** Runs `fn` on the connection `opening` resolves to, and always ends it. */
export async function usingConnection<T>(opening: Promise<Connection>, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await opening;
  try {
    return await fn(connection);
  } finally {
    await connection.end();
  }
}

/** Row count and a content checksum of every table in `database`, read with plain SQL (independent of the driver). */
export async function tableChecksums(connection: Connection, database: string): Promise<Record<string, { rows: number; checksum: string }>> {
  const [tables] = await connection.query(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name", [database],
  ) as [Array<{ name: string }>, unknown];
  const result: Record<string, { rows: number; checksum: string }> = {};
  for (const { name } of tables) {
    const table = `${quoteId(database)}.${quoteId(name)}`;
    const [[count]] = await connection.query(`SELECT COUNT(*) AS n FROM ${table}`) as [Array<{ n: string | number }>, unknown];
    const [[sum]] = await connection.query(`CHECKSUM TABLE ${table} EXTENDED`) as [Array<{ Checksum: string | number | null }>, unknown];
    result[name] = { rows: Number(count.n), checksum: String(sum.Checksum) };
  }
  return result;
}

/** A writer committing to the shop in a loop until stopped: an insert into `shop.ticks` (created here) and an update of `shop.big` per round, plus a MyISAM insert when asked. */
export interface ContinuousWriter {
  /** Rounds committed so far. */
  readonly commits: number;
  /** Stops after the current round and closes the connection. */
  stop(): Promise<void>;
}

export async function startContinuousWriter(server: TestMariaDb, alsoMyIsam = false): Promise<ContinuousWriter> {
  const writer = await server.connect();
  await writer.query('CREATE TABLE shop.ticks (id INT PRIMARY KEY AUTO_INCREMENT, n INT NOT NULL) ENGINE=InnoDB');
  let writing = true;
  let commits = 0;
  const loop = (async function writeLoop() {
    while (writing) {
      await writer.query('INSERT INTO shop.ticks (n) VALUES (?)', [commits]);
      if (alsoMyIsam) await writer.query('INSERT INTO shop.audit_log (message) VALUES (?)', [`tick ${commits}`]);
      await writer.query('UPDATE shop.big SET k = k + 1 WHERE id = ?', [1 + (commits % 1000)]);
      commits += 1;
    }
  })();
  let stopped: Promise<void> | undefined;
  return {
    get commits() { return commits; },
    stop() {
      writing = false;
      stopped ??= loop.catch(() => undefined).then(() => writer.end());
      return stopped;
    },
  };
}
