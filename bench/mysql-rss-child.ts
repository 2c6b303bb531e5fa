/** Child of the MySQL bench: runs our logical dump of one database and prints its peak RSS (bytes). */
import { takeSnapshot } from '../core/driver/take-snapshot';
import { silentLogger } from '../core/logger';
import { plugin } from '../drivers/mysql';
import { mysqlConfigSchema } from '../drivers/mysql/config';

async function main(): Promise<void> {
  const [port, database, spoolDir] = process.argv.slice(2);
  const config = mysqlConfigSchema.parse({ host: '127.0.0.1', port: Number(port), user: 'root', password: '', databases: [database], parallelism: 4 });
  await takeSnapshot('mysql', plugin.backup!, { backupId: `rss-${database}`, instance: 'bench', config, node: { name: 'default' }, spoolDir, logger: silentLogger });
  process.stdout.write(`${process.resourceUsage().maxRSS * 1024}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
