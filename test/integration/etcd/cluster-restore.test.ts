/**
 * An etcd backup restored into a new 3-member cluster on loopback, through the synthesized restore
 * state machine: every member serves the backup's revision, keys and kv digest, one leader, the
 * target's members; a restore step whose host died after starting the members is run again
 * without leaving a second set of members; a failed restore stops every member it started; busy
 * ports and occupied data dirs are refused up front, per member; `start: false` leaves them stopped.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import type { AgentResult } from '../../../core/agent/agent-steps';
import { memberPid, memberPidFile } from '../../../drivers/etcd/member';
import { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { CrashingHostRunner } from '../../contract/crashing-host-runner';
import {
  clusterTargetMembers, currentRevision, readAllKeys, startTestEtcd, stopAllEtcd, writeKeys, type KeyRecord, type TargetMemberSpec, type TestEtcd,
} from '../../harness/etcd';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { expectStepsInLockstep, recordingHostRunner, RESTORE_NODE_STEPS } from '../../harness/recording-host-runner';
import { scriptedHostRunner } from '../../harness/scripted-host-runner';

let source: TestEtcd;
let rt: TestRuntime;
let backupId: string;
let sourceKeys: KeyRecord[];
let sourceRevision: number;

beforeAll(async () => {
  source = await startTestEtcd('cluster-src');
  await writeKeys(source.client, 300);
  for (let version = 1; version <= 3; version += 1) await source.client.put('multi').value(`v${version}`);
  await source.client.delete().key('key/000005');
  sourceKeys = await readAllKeys(source.client);
  sourceRevision = await currentRevision(source.client);
  rt = await createTestRuntime();
  backupId = (await rt.backup({ engine: 'etcd', instance: 'main', config: { endpoints: [source.clientUrl] } })).backupId;
});
afterAll(async () => {
  await stopAllEtcd();
  await rt.dispose();
});

/** The etcd processes running on `dataDir` (by their `--data-dir` argument). */
async function etcdProcessesOn(dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').then((s) => s.split('\0'), () => [] as string[]);
    if (argv.includes(`--data-dir=${dataDir}`)) pids.push(Number(entry));
  }
  return pids;
}

/** What each member serves, read independently of the driver: its status and every key at its revision. */
async function servedBy(members: TargetMemberSpec[]) {
  return Promise.all(members.map(async (member) => {
    const client = new Etcd3({ hosts: [member.clientUrl] });
    try {
      const status = await client.maintenance.status();
      return { name: member.name, status, revision: Number(status.header.revision), keys: await readAllKeys(client) };
    } finally {
      client.close();
    }
  }));
}

const checkNames = (report: { validation: { checks: Array<{ name: string; ok: boolean }> } }) => report.validation.checks.map((c) => [c.name, c.ok]);
const CLUSTER_CHECKS = [
  ['new-cluster', true], ['cluster-id', true], ['leader', true], ['member-list', true],
  ...['m1', 'm2', 'm3'].flatMap((m) => [[`revision:${m}`, true], [`key-count:${m}`, true], [`kv-digest:${m}`, true]]),
];

it('restores a 3-member cluster: every member serves the backup\'s revision and keys, one leader, the target\'s members', async () => {
  // Prepare
  const members = await clusterTargetMembers('cluster', 3);

  // Act
  const report = await rt.restore({ backupId, target: { members } });
  const served = await servedBy(members);

  // Assess
  expect(checkNames(report)).toEqual(CLUSTER_CHECKS);
  expect(report.endpoint).toMatchObject({
    clusterToken: expect.stringMatching(/^restore-/), initialCluster: members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
    members: members.map((m) => expect.objectContaining({ name: m.name, clientUrl: m.clientUrl, started: true, pid: expect.any(Number) })),
  });
  for (const member of served) {
    expect(member.revision).toBe(sourceRevision);
    expect(member.keys).toEqual(sourceKeys);
  }
  expect(new Set(served.map((m) => m.status.header.cluster_id)).size).toBe(1);
  expect(new Set(served.map((m) => m.status.leader)).size).toBe(1);
  expect(served.filter((m) => m.status.leader === m.status.header.member_id)).toHaveLength(1);
  for (const member of members) expect(await etcdProcessesOn(member.dataDir)).toHaveLength(1);
}, 120_000);

it('runs a start step whose host died after starting the members again, leaving one member per data dir', async () => {
  // Prepare
  const members = await clusterTargetMembers('crash', 3);
  let firstPids: Array<number | undefined> = [];
  const runner = new CrashingHostRunner(rt.deps, {
    step: 'restore-start',
    afterWork: async () => { firstPids = await Promise.all(members.map((m) => memberPid(memberPidFile(m.dataDir)))); },
  });
  const workflows = localWorkflows(rt, { waitMs: 10, retryIntervalMs: 50, definitions: shippedDefinitions(), hostRunner: runner });

  // Act
  const execution = await workflows.execute('restore', { backupId, target: { members } });

  // Assess
  expect(runner.crashes).toBe(1);
  expect(execution.retries.Start).toBeGreaterThanOrEqual(1);
  expect((execution.output as { report: { validation: { ok: boolean } } }).report.validation.ok).toBe(true);
  expect(firstPids).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
  for (const [i, member] of members.entries()) {
    const running = await etcdProcessesOn(member.dataDir);
    expect(running).toEqual([await memberPid(memberPidFile(member.dataDir))]);
    expect(running).not.toContain(firstPids[i]);
  }
  for (const member of await servedBy(members)) expect(member.keys).toEqual(sourceKeys);
}, 180_000);

it('stops every member it started when a later step fails, and says each data dir holds the restored backup', async () => {
  // Prepare
  const members = await clusterTargetMembers('failed', 3);
  const refused: AgentResult = { ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message: 'validation refused' } };
  const workflows = localWorkflows(rt, { waitMs: 10, definitions: shippedDefinitions(), hostRunner: scriptedHostRunner(rt.deps, { 'restore-validate': { result: () => refused } }) });

  // Act
  const error = await workflows.execute('restore', { backupId, target: { members } }).then(() => undefined, (e: unknown) => e as ExecutionFailedError);

  // Assess
  expect(error?.causeText).toMatch(/^SCRIPTED: validation refused — target restored: a cluster of 3 members; member m1: .* holds backup \S+ as restored; .*; stopped what the restore started: etcd member m1 \(pid \d+, http:\/\/127\.0\.0\.1:\d+\), etcd member m2 .*, etcd member m3 /);
  for (const member of members) {
    expect(await memberPid(memberPidFile(member.dataDir))).toBeUndefined();
    expect(await etcdProcessesOn(member.dataDir)).toEqual([]);
  }
}, 120_000);

it('with start: false leaves the members stopped, and validation starts them together only for the check', async () => {
  // Prepare
  const members = await clusterTargetMembers('stopped', 3);

  // Act
  const report = await rt.restore({ backupId, target: { members, start: false } });

  // Assess
  expect(checkNames(report)).toEqual(CLUSTER_CHECKS);
  expect(report.endpoint).toMatchObject({ started: false, members: members.map(() => expect.objectContaining({ started: false })) });
  for (const member of members) expect(await etcdProcessesOn(member.dataDir)).toEqual([]);
}, 120_000);

it('refuses a busy port or an occupied data dir of any member before touching anything', async () => {
  // Prepare
  const busy = await clusterTargetMembers('busy', 3);
  busy[1] = { ...busy[1], clientUrl: source.clientUrl };
  const occupied = await clusterTargetMembers('occupied', 3);
  await mkdir(occupied[2].dataDir, { recursive: true });
  await writeFile(path.join(occupied[2].dataDir, 'precious.txt'), 'keep');

  // Act
  const portRefusal = rt.restore({ backupId, target: { members: busy } });
  const dirRefusal = rt.restore({ backupId, target: { members: occupied } });

  // Assess
  await expect(portRefusal).rejects.toMatchObject({ code: 'TARGET_PORT_IN_USE', message: expect.stringContaining(`member m2's clientUrl ${source.clientUrl}`) });
  await expect(dirRefusal).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY', message: expect.stringContaining(occupied[2].dataDir) });
  expect(await readdir(occupied[2].dataDir)).toEqual(['precious.txt']);
  for (const member of [...busy, ...occupied]) expect(await etcdProcessesOn(member.dataDir)).toEqual([]);
});

it('restores a cluster whose members are on three hosts: each step on every host, the next once all finished; a failure stops every host\'s member', async () => {
  // Prepare
  const hosts = ['i-0e7cd000000000001', 'i-0e7cd000000000002', 'i-0e7cd000000000003'];
  const members = (await clusterTargetMembers('hosts', 3)).map((m, i) => ({ ...m, host: hosts[i] }));
  const failing = (await clusterTargetMembers('hosts-failed', 3)).map((m, i) => ({ ...m, host: hosts[i] }));
  const recording = recordingHostRunner(rt.deps);
  const refusing = recordingHostRunner(rt.deps, (step) => (step === 'restore-validate' ? { ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message: 'validation refused' } } : undefined));

  // Act
  const report = await localWorkflows(rt, { waitMs: 10, definitions: shippedDefinitions(), hostRunner: recording.runner }).restore({ backupId, target: { members } });
  const error = await localWorkflows(rt, { waitMs: 10, definitions: shippedDefinitions(), hostRunner: refusing.runner })
    .execute('restore', { backupId, target: { members: failing } }).then(() => undefined, (e: unknown) => e as ExecutionFailedError);

  // Assess: one cluster, every member with the backup's keys, each member restored and started by its own host's steps.
  expect(checkNames(report)).toEqual(CLUSTER_CHECKS);
  for (const member of await servedBy(members)) expect(member.keys).toEqual(sourceKeys);
  expectStepsInLockstep(recording);
  for (const step of RESTORE_NODE_STEPS) {
    expect(recording.runner.submitted.filter((c) => c.step === step).map((c) => c.host).sort()).toEqual(hosts);
  }
  const nodes = report.endpoint.nodes as Record<string, { members: Array<{ name: string; started: boolean }> }>;
  members.forEach((m, i) => expect(nodes[hosts[i]].members).toEqual([expect.objectContaining({ name: m.name, started: true })]));
  // The failure path cleans up on every host: each stops the member it started, and the cause names each node.
  expect(error?.causeText).toMatch(new RegExp(`^SCRIPTED: validation refused — target restored: node ${hosts[0]}: .*; node ${hosts[1]}: .*; node ${hosts[2]}: .*stopped what the restore started: etcd member m3`));
  expect(refusing.runner.submitted.filter((c) => c.step === 'restore-cleanup').map((c) => c.host).sort()).toEqual(hosts);
  for (const member of failing) expect(await etcdProcessesOn(member.dataDir)).toEqual([]);
}, 180_000);
