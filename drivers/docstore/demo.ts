/**
 * The Docstore demo: three throwaway MariaDB servers, one partition each, holding a sample instance
 * (sample-store.ts: trips indexed by city, riders by email, unicode JSON). Its drill restores all
 * three partitions onto one scratch server (scratch.ts) — another number of servers.
 */
import path from 'node:path';
import { onFreePorts } from '../../core/host/ports';
import type { DemoScenario } from '../../core/demo/scenario';
import { startLocalMariaDb, type RunningServer } from '../mysql/shared/local-server';
import { createSamplePartitions, sampleConfig, writeSampleDocuments } from './sample-store';

const TRIPS = 6_000;

export const docstoreDemo: DemoScenario = {
  engine: 'docstore',
  async start(workDir) {
    const started: RunningServer[] = [];
    const stop = async () => {
      for (const server of started) await server.stop();
    };
    try {
      for (const [i, name] of ['partition-0', 'partition-1', 'partition-2'].entries()) {
        started.push(await onFreePorts(1, ([port]) => startLocalMariaDb({ dir: path.join(workDir, name), port, serverId: i + 1 })));
      }
      const sources = started.slice(0, 3).map((s, i) => ({ name: `ds-${i}`, host: s.host, port: s.port }));
      const config = sampleConfig(sources, 3);
      await createSamplePartitions(config);
      await writeSampleDocuments(config, 1, TRIPS);
      return {
        instance: 'demo',
        config,
        seeded: `${TRIPS} trips and ${TRIPS / 3} riders in 3 partitions on 3 servers (restored onto 1)`,
        stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  },
};
