/** Every engine's demo scenario, in the order `npm start` runs them. */
import type { DemoScenario } from './scenario';
import { etcdDemo } from '../../drivers/etcd/demo';
import { mysqlDemo } from '../../drivers/mysql/demo';

export function demoScenarios(): DemoScenario[] {
  return [etcdDemo, mysqlDemo];
}
