/**
 * A host-local ZooKeeper backup restored onto an ensemble whose members name their own hosts (SSM
 * managed instance ids), through the synthesized restore state machine: every host step runs once
 * per host, on that host, each step on every host before the next begins (stage everywhere before
 * any member is touched, every member replaced before any starts), and validation once. The
 * hosts are this machine: a recording host runner notes which host each command was for, when it
 * began and ended, and runs it for real.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionFailedError } from '../../../statemachines/local/run-local';
import { localWorkflows } from '../../../statemachines/local/local-workflows';
import { isListening } from '../../../core/host/ports';
import { freePort } from '../../harness/ports';
import { createTestRuntime, shippedDefinitions, type TestRuntime } from '../../harness/runtime';
import { expectStepsInLockstep, recordingHostRunner, RESTORE_NODE_STEPS } from '../../harness/recording-host-runner';
import {
  readTree, SEED_AUTH_ENV, SEED_AUTH_REF, seedTree, startTestZooKeeper, stopAllZooKeeper, trackZooKeeper, zkTempDir, type RawClient, type ReadNode,
} from '../../harness/zookeeper';

const HOSTS = ['i-0aaaaaaaaaaaaaaa1', 'i-0bbbbbbbbbbbbbbb2', 'i-0ccccccccccccccc3'];

let rt: TestRuntime;
let backupId: string;
let sourceTree: ReadNode[];
const holders: RawClient[] = [];

beforeAll(async () => {
  rt = await createTestRuntime({ env: SEED_AUTH_ENV });
  const source = await startTestZooKeeper('multi-host-src', { snapCount: 100 });
  holders.push(await seedTree(source.connectString, 300));
  backupId = (await rt.backup({ engine: 'zookeeper', instance: 'multi-host', config: { members: [{ address: source.connectString }] } })).backupId;
  sourceTree = await readTree(source.connectString);
}, 120_000);
afterAll(async () => {
  for (const holder of holders) holder.close();
  await stopAllZooKeeper();
  await rt.dispose();
});

/** One member per host, on fresh loopback ports, tracked for the harness to stop. */
async function membersOnHosts(label: string) {
  const dir = await zkTempDir(label);
  return Promise.all(HOSTS.map(async (host, i) => {
    const dataDir = path.join(dir, `host-${i + 1}`, 'zookeeper');
    trackZooKeeper(dataDir);
    return { id: i + 1, host, dataDir, clientPort: await freePort(), quorumPort: await freePort(), electionPort: await freePort() };
  }));
}

it('restores an ensemble whose members are on three hosts: each step on every host, the next only once all finished, validation once', async () => {
  // Prepare
  const members = await membersOnHosts('multi-host-target');
  const recording = recordingHostRunner(rt.deps);
  const { runner } = recording;
  const workflows = localWorkflows(rt, { waitMs: 10, definitions: shippedDefinitions(), hostRunner: runner });

  // Act
  const report = await workflows.restore({ backupId, target: { members, auth: [SEED_AUTH_REF] } });

  // Assert: every member serves the backup's tree, one leader.
  expect(report.validation.ok).toBe(true);
  expect(report.validation.checks.map((c) => c.name)).toEqual(expect.arrayContaining([...members.map((m) => `tree@127.0.0.1:${m.clientPort}`), 'one-leader']));
  for (const m of members) expect(await readTree(`127.0.0.1:${m.clientPort}`)).toEqual(sourceTree);
  // Each node step was sent to each host once, for that host's node; validate once, to the first host.
  for (const step of RESTORE_NODE_STEPS) {
    const sent = runner.submitted.filter((c) => c.step === step);
    expect(sent.map((c) => c.host).sort()).toEqual([...HOSTS].sort());
    for (const command of sent) expect((command.input as { node: { name: string } }).node.name).toBe(command.host);
  }
  expect(runner.submitted.filter((c) => c.step === 'restore-validate').map((c) => c.host)).toEqual([HOSTS[0]]);
  // Each step ended on every host before the next began on any.
  expectStepsInLockstep(recording);
  // Each host restored its own member: the report keeps each node's endpoint.
  expect(report.endpoint.address).toBe(members.map((m) => `127.0.0.1:${m.clientPort}`).sort().join(','));
  const nodes = report.endpoint.nodes as Record<string, { servers: string[]; pids: number[] }>;
  expect(Object.keys(nodes).sort()).toEqual([...HOSTS].sort());
  for (const m of members) expect(nodes[m.host]).toMatchObject({ servers: [`127.0.0.1:${m.clientPort}`], pids: [expect.any(Number)] });
}, 240_000);

it('refuses to touch any host when one host cannot stage the backup: every member keeps its data, and the cause says so per host', async () => {
  // Prepare: each member dir holds an earlier ensemble's files; the third host cannot download.
  const members = await membersOnHosts('multi-host-forced');
  for (const m of members) {
    await mkdir(path.join(m.dataDir, 'version-2'), { recursive: true });
    await writeFile(path.join(m.dataDir, 'version-2', 'snapshot.1'), `earlier data of member ${m.id}`);
  }
  const { runner } = recordingHostRunner(rt.deps, (step, host) => (step === 'restore-stage' && host === HOSTS[2]
    ? { ok: false, error: { name: 'TransientError', code: 'STORE_UNREACHABLE', message: 'the bucket cannot be reached from this host' } }
    : undefined));
  const workflows = localWorkflows(rt, { waitMs: 10, retryIntervalMs: 10, definitions: shippedDefinitions(), hostRunner: runner });

  // Act
  const error = await workflows.execute('restore', { backupId, target: { members, auth: [SEED_AUTH_REF] }, force: true }).then(() => undefined, (e: unknown) => e as ExecutionFailedError);

  // Assert
  expect(error?.causeText).toMatch(/the bucket cannot be reached from this host — target untouched: node i-0aaaaaaaaaaaaaaa1: .*; node i-0bbbbbbbbbbbbbbb2: .*; node i-0ccccccccccccccc3: /);
  expect(runner.submitted.filter((c) => c.step === 'restore-apply')).toEqual([]);
  for (const m of members) {
    expect(await readFile(path.join(m.dataDir, 'version-2', 'snapshot.1'), 'utf8')).toBe(`earlier data of member ${m.id}`);
    expect((await readdir(path.dirname(m.dataDir))).sort()).toEqual(['zookeeper']);
  }
}, 240_000);

it('fails, once every host\'s apply has ended, when one host\'s apply fails: the cleanup runs on every host after them and says what each holds', async () => {
  // Prepare: the third host's apply does its work and then reports a failure.
  const members = await membersOnHosts('multi-host-apply-fails');
  const recording = recordingHostRunner(rt.deps, (step, host) => (step === 'restore-apply' && host === HOSTS[2]
    ? { ok: false, error: { name: 'PermanentError', code: 'SCRIPTED', message: 'the disk of this host failed' } }
    : undefined));
  const workflows = localWorkflows(rt, { waitMs: 10, definitions: shippedDefinitions(), hostRunner: recording.runner });

  // Act
  const error = await workflows.execute('restore', { backupId, target: { members, auth: [SEED_AUTH_REF] } }).then(() => undefined, (e: unknown) => e as ExecutionFailedError);

  // Assert: every host's apply ended before any cleanup was sent; nothing started; each host's state said.
  expect(recording.runner.submitted.filter((c) => c.step === 'restore-start')).toEqual([]);
  expect(recording.edges('restore-apply', 'end')).toHaveLength(3);
  expect(Math.max(...recording.edges('restore-apply', 'end'))).toBeLessThan(Math.min(...recording.edges('restore-cleanup', 'begin')));
  expect(recording.runner.submitted.filter((c) => c.step === 'restore-cleanup').map((c) => c.host).sort()).toEqual([...HOSTS].sort());
  expect(error?.causeText).toMatch(new RegExp(`^SCRIPTED: the disk of this host failed — target partial: node ${HOSTS[0]}: .* holds an unfinished restore .*; node ${HOSTS[1]}: .* holds an unfinished restore .*; node ${HOSTS[2]}: .*was not written to`));
  for (const m of members) expect(await isListening({ host: '127.0.0.1', port: m.clientPort }, 1_000)).toBe(false);
}, 240_000);

it('refuses a target that would make two nodes of one machine: a member naming the restore\'s own host beside members without one', async () => {
  // Prepare
  const [first, second] = await membersOnHosts('multi-host-same-machine');
  const { host: _, ...hostless } = second;

  // Act
  const refusal = rt.restore({ backupId, host: HOSTS[0], target: { members: [first, hostless], auth: [SEED_AUTH_REF] } });

  // Assert
  await expect(refusal).rejects.toMatchObject({ code: 'INVALID_TARGET', message: expect.stringContaining(`puts members on ${HOSTS[0]} both by its host and as the restore's own host`) });
});
