/**
 * The MySQL demo: a throwaway MariaDB with a small shop database (InnoDB and MyISAM tables, a
 * view, a trigger, utf8mb4 text, a BLOB); its drill restores into a scratch MariaDB (scratch.ts).
 */
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { onFreePorts } from '../../core/host/ports';
import type { DemoScenario } from '../../core/demo/scenario';
import { startLocalMariaDb } from './shared/local-server';

const ROWS = 10_000;

async function seed(port: number): Promise<void> {
  const connection = await createConnection({ host: '127.0.0.1', port, user: 'root', multipleStatements: true });
  try {
    await connection.query(`
      CREATE DATABASE demo_shop CHARACTER SET utf8mb4;
      USE demo_shop;
      CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, photo BLOB NULL) ENGINE=InnoDB;
      CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL, KEY (customer_id)) ENGINE=InnoDB;
      CREATE TABLE visits (id INT PRIMARY KEY AUTO_INCREMENT, page VARCHAR(200) NOT NULL) ENGINE=MyISAM;
      CREATE VIEW big_spenders AS SELECT customer_id, SUM(total) AS spent FROM orders GROUP BY customer_id HAVING spent > 1000;
      CREATE TRIGGER order_visit AFTER INSERT ON orders FOR EACH ROW INSERT INTO visits (page) VALUES (CONCAT('/orders/', NEW.id));
      INSERT INTO customers SELECT seq, CONCAT('customer ', seq, IF(seq MOD 7 = 0, ' 🚀', '')), IF(seq MOD 10 = 0, UNHEX(MD5(seq)), NULL) FROM seq_1_to_1000;
      INSERT INTO orders SELECT seq, 1 + seq MOD 1000, (seq MOD 500) + 0.99 FROM seq_1_to_${ROWS};
    `);
  } finally {
    await connection.end();
  }
}

export const mysqlDemo: DemoScenario = {
  engine: 'mysql',
  async start(workDir) {
    const source = await onFreePorts(1, ([port]) => startLocalMariaDb({ dir: path.join(workDir, 'source'), port }));
    try {
      await seed(source.port);
      return {
        instance: 'demo',
        config: { host: source.host, port: source.port, user: 'root', password: '' },
        seeded: `${ROWS} orders`,
        stop: () => source.stop(),
      };
    } catch (error) {
      await source.stop();
      throw error;
    }
  },
};
