/**
 * Who holds a backup's host files between its steps, as the real agent records it: steps run by
 * the local runner are held by the CLI that orchestrates them (alive while it runs), steps run
 * through SSM by no process between steps, so for the execution's longest life.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { nodeState, prepareBackup } from '../../../core/backup/backup-steps';
import { LocalProcessHostRunner } from '../../../core/host-runner/local-process-runner';
import { currentProcess } from '../../../core/host/process-identity';
import { findLeftovers } from '../../../core/runs/leftovers';
import { ownerFileOf } from '../../../core/runs/run-dir';
import { MAX_RUN_MS } from '../../../core/runs/run-holder';
import { backupRunDir } from '../../../core/runs/spool-layout';
import { runCli } from '../../harness/cli-process';
import { startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';
import { pollUntilDone } from '../../fixtures/host-runner/helpers';

let etcd: TestEtcd;
let rt: TestRuntime;

beforeAll(async () => {
  etcd = await startTestEtcd('run-dirs');
  await writeKeys(etcd.client, 50);
  rt = await createTestRuntime();
});
afterAll(async () => {
  await rt.dispose();
  await stopAllEtcd();
});

const request = () => ({ engine: 'etcd', instance: 'held', config: { endpoints: [etcd.clientUrl] } });

async function ownerOf(backupId: string): Promise<{ holder: { processes: { pid: number }[]; until?: string } }> {
  return JSON.parse(await readFile(ownerFileOf(backupRunDir(rt.spoolRoot, backupId, 'default')), 'utf8'));
}

describe('run directories across runners', () => {
  it('the local runner\'s agents are held by the orchestrating CLI, so the run stays alive between steps', async () => {
    // Prepare
    const state = await prepareBackup(request(), rt.deps);
    const runner = new LocalProcessHostRunner({
      directory: path.join(rt.root, 'runner'), storeUrl: rt.store.url, orchestrator: currentProcess(),
      env: { ...process.env, DBBACKUP_SPOOL_DIR: rt.spoolRoot },
    });

    // Act
    const submission = await runner.submit({ step: 'backup-snapshot', input: nodeState(state, state.nodes[0]), timeoutSeconds: 300 });
    const { result } = await pollUntilDone(runner, submission, 120_000, 50);
    const leftovers = await findLeftovers(rt.spoolRoot);

    // Assess: the agent is gone, the run (this process orchestrating it) is not
    expect(result.ok).toBe(true);
    const owner = await ownerOf(state.backupId);
    expect(owner.holder.processes.map((p) => p.pid)).toContain(process.pid);
    expect(owner.holder.until).toBeUndefined();
    expect(leftovers.find((l) => l.id === state.backupId)).toMatchObject({ action: 'keep', reason: expect.stringMatching(`process ${process.pid} is running`) });
  });

  it('an agent run as SSM runs it is held for the execution\'s longest life after the run started', async () => {
    // Prepare
    const state = await prepareBackup(request(), rt.deps);

    // Act: the agent as SSM starts it, with no orchestrator in its environment
    const agent = await runCli(['--store', rt.store.url, 'agent', 'backup-snapshot', '--input', JSON.stringify(nodeState(state, state.nodes[0]))], { DBBACKUP_SPOOL_DIR: rt.spoolRoot });
    const owner = await ownerOf(state.backupId);
    const during = await findLeftovers(rt.spoolRoot);
    const after = await findLeftovers(rt.spoolRoot, { now: new Date(Date.parse(state.run!.startedAt) + MAX_RUN_MS + 1) });

    // Assess
    expect(agent.code).toBe(0);
    expect(owner.holder.until).toBe(new Date(Date.parse(state.run!.startedAt) + MAX_RUN_MS).toISOString());
    expect(owner.holder.processes.map((p) => p.pid)).not.toContain(process.pid);
    expect(during.find((l) => l.id === state.backupId)).toMatchObject({ action: 'keep', reason: expect.stringMatching(/orchestrated elsewhere/) });
    expect(after.find((l) => l.id === state.backupId)).toMatchObject({ action: 'remove', reason: expect.stringMatching(/its hold ended/) });
  });
});
