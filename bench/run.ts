/**
 * `npm run bench [-- name...]`: runs each benchmark module in {@link BENCHES} (or those named on the
 * command line) and prints one table per benchmark. Each benchmark writes its own results JSON
 * under bench/results/. To add one, export a {@link Bench} and append it to the list.
 */
import { storeBench } from './store-bench';
import { mysqlBench } from './mysql-bench';
import { mysqlPeersBench } from './mysql-peers-bench';
import { zookeeperBench } from './zookeeper-bench';
import { cassandraBench } from './cassandra-bench';
import { schemalessBench } from './schemaless-bench';
import { docstoreBench } from './docstore-bench';
import { encodingBench } from './encoding-bench';

/** One line of a benchmark's table. */
export interface BenchRow {
  metric: string;
  /** Already formatted, with its unit. */
  value: string;
  /** Human-readable target, e.g. `≥ 0.90`. */
  goal?: string;
  /** Whether the goal was met (undefined when there is no goal). */
  ok?: boolean;
}

/** A benchmark module. */
export interface Bench {
  name: string;
  run(): Promise<BenchRow[]>;
}

/** Every benchmark `npm run bench` knows, in the order they run. */
export const BENCHES: Bench[] = [storeBench, mysqlBench, mysqlPeersBench, encodingBench, zookeeperBench, cassandraBench, schemalessBench, docstoreBench];

function printTable(name: string, rows: BenchRow[]): void {
  const header: BenchRow = { metric: 'metric', value: 'value', goal: 'goal' };
  const width = {
    metric: Math.max(...[header, ...rows].map((row) => row.metric.length)),
    value: Math.max(...[header, ...rows].map((row) => row.value.length)),
    goal: Math.max(...[header, ...rows].map((row) => (row.goal ?? '').length)),
  };
  const line = (row: BenchRow, status: string) =>
    `  ${row.metric.padEnd(width.metric)}  ${row.value.padStart(width.value)}  ${(row.goal ?? '').padEnd(width.goal)}  ${status}`;
  process.stdout.write(`\n${name}\n${line(header, 'ok')}\n`);
  for (const row of rows) process.stdout.write(`${line(row, row.ok === undefined ? '' : row.ok ? 'yes' : 'NO')}\n`);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = BENCHES.filter((bench) => wanted.length === 0 || wanted.includes(bench.name));
  if (selected.length === 0) throw new Error(`no benchmark named ${wanted.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  let missed = 0;
  for (const bench of selected) {
    process.stdout.write(`running ${bench.name} benchmark...\n`);
    const rows = await bench.run();
    printTable(bench.name, rows);
    missed += rows.filter((row) => row.ok === false).length;
  }
  process.stdout.write(missed === 0 ? '\nall goals met\n' : `\n${missed} goal(s) missed\n`);
}

main().catch(function fail(error: unknown) {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
