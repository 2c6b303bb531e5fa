/**
 * The Schemaless demo: two throwaway MariaDB servers holding eight shards of a sample store
 * (sample-store.ts: unicode JSON profiles indexed by email, binary avatars, buffered writes). Its
 * drill restores all eight shards onto one scratch server (scratch.ts) — another number of servers.
 */
import path from 'node:path';
import { onFreePorts } from '../../core/host/ports';
import type { DemoScenario } from '../../core/demo/scenario';
import { startLocalMariaDb, type RunningServer } from '../mysql/shared/local-server';
import { createSampleShards, sampleConfig, writeSampleCells } from './sample-store';

const CELLS = 8_000;
const SHARDS = 8;

export const schemalessDemo: DemoScenario = {
  engine: 'schemaless',
  async start(workDir) {
    const started: RunningServer[] = [];
    const stop = async () => {
      for (const server of started) await server.stop();
    };
    try {
      for (const [i, name] of ['source-1', 'source-2'].entries()) {
        started.push(await onFreePorts(1, ([port]) => startLocalMariaDb({ dir: path.join(workDir, name), port, serverId: i + 1 })));
      }
      const [a, b] = started;
      const config = sampleConfig([{ name: 'sl-1', host: a.host, port: a.port }, { name: 'sl-2', host: b.host, port: b.port }], SHARDS);
      await createSampleShards(config);
      await writeSampleCells(config, 1, CELLS);
      return {
        instance: 'demo',
        config,
        seeded: `${CELLS} cells in ${SHARDS} shards on 2 servers (restored onto 1)`,
        stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  },
};
