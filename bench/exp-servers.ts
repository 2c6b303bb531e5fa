import { startLocalMariaDb } from '../drivers/mysql/shared/local-server';
(async () => {
  const a = await startLocalMariaDb({ dir: '/tmp/exp/source', port: 33911, serverId: 1 });
  const b = await startLocalMariaDb({ dir: '/tmp/exp/target', port: 33912, serverId: 2 });
  console.log('ready', process.pid);
  process.on('SIGTERM', async () => { await a.stop(); await b.stop(); process.exit(0); });
  setInterval(() => {}, 1 << 30);
})();
