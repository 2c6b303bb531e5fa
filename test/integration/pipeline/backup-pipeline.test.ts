/**
 * The backup steps one by one against a real etcd and a real local store: a crashed backup is never
 * complete, a damaged one is refused, the failure path removes what a failed one left. What every
 * driver promises end to end (round trip, refused targets, damaged artifacts) is the driver
 * contract suite's (test/contract).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  cleanupNode, nodeState, prepareBackup, snapshotNode, uploadNode, validateNode,
} from '../../../core/backup/backup-steps';
import { finalizeBackup } from '../../../core/backup/finalize';
import { readUpload } from '../../../core/backup/step-results';
import { manifestKey } from '../../../core/catalog/layout';
import { InlineHostRunner } from '../../../core/host-runner/inline-runner';
import { createHandler as cleanupHandler } from '../../../functions/backup/cleanup';
import { localContext } from '../../../statemachines/local/run-local';
import { startTestEtcd, stopAllEtcd, writeKeys, type TestEtcd } from '../../harness/etcd';
import { createTestRuntime, type TestRuntime } from '../../harness/runtime';

let etcd: TestEtcd;
let rt: TestRuntime;

beforeAll(async () => {
  etcd = await startTestEtcd('pipeline');
  await writeKeys(etcd.client, 200);
});
afterAll(() => stopAllEtcd());
beforeEach(async () => {
  rt = await createTestRuntime({ env: { ETCD_TEST_PASSWORD: 'not-used' } });
});
afterEach(() => rt.dispose());

const request = () => ({ engine: 'etcd', instance: 'pipeline', config: { endpoints: [etcd.clientUrl] } });

async function uploadedNode() {
  const state = await prepareBackup(request(), rt.deps);
  let node = await snapshotNode(nodeState(state, state.nodes[0]), rt.deps);
  node = await validateNode(node, rt.deps);
  node = await uploadNode(node, rt.deps);
  return { state, node };
}

describe('backup pipeline', () => {
  it('never lists a backup that crashed before finalize as complete', async () => {
    // Prepare
    const { state } = await uploadedNode();

    // Act: the process "dies" here: no finalize.
    const complete = await rt.catalog.list();
    const all = await rt.catalog.list({ includeIncomplete: true });

    // Assess
    expect(complete).toHaveLength(0);
    expect(all).toEqual([expect.objectContaining({ backupId: state.backupId, complete: false })]);
    await expect(rt.catalog.get(state.backupId)).rejects.toMatchObject({ code: 'BACKUP_INCOMPLETE' });
  });

  it('refuses to finalize when an uploaded artifact is missing from the store', async () => {
    // Prepare
    const { state, node } = await uploadedNode();
    await rt.store.delete((await readUpload(rt.store, node)).artifacts.map((a) => a.key));

    // Act
    const finalizing = finalizeBackup({ ...state, nodeResults: [node] }, rt.deps);

    // Assess
    await expect(finalizing).rejects.toMatchObject({ name: 'PermanentError', code: 'ARTIFACT_MISSING' });
    expect(await rt.store.head(manifestKey(state.prefix))).toBeUndefined();
  });

  it('refuses to finalize a node that was never validated', async () => {
    // Prepare
    const { state, node } = await uploadedNode();

    // Act
    const finalizing = finalizeBackup({ ...state, nodeResults: [{ ...node, validation: undefined }] }, rt.deps);

    // Assess
    await expect(finalizing).rejects.toMatchObject({ code: 'NOT_VALIDATED' });
    expect(await rt.store.head(manifestKey(state.prefix))).toBeUndefined();
  });

  it('stops a backup whose spooled snapshot was damaged, and cleanup removes the spool', async () => {
    // Prepare
    const state = await prepareBackup(request(), rt.deps);
    const node = await snapshotNode(nodeState(state, state.nodes[0]), rt.deps);
    const file = path.join(node.spoolDir!, 'snapshot.db');
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(file, bytes);

    // Act
    const validating = validateNode(node, rt.deps);
    await expect(validating).rejects.toMatchObject({ name: 'PermanentError', code: 'SNAPSHOT_INVALID' });
    await cleanupNode(node, rt.deps);

    // Assess
    expect(existsSync(node.spoolDir!)).toBe(false);
  });

  it('the failure-path cleanup deletes what a failed backup left in the store, and never touches a complete one', async () => {
    // Prepare
    const cleanup = cleanupHandler(async () => ({ runtime: rt, hostRunner: new InlineHostRunner(rt.deps), hostStepTimeoutSeconds: 30 }));
    const failed = await uploadedNode();
    const complete = await uploadedNode();
    await finalizeBackup({ ...complete.state, nodeResults: [complete.node] }, rt.deps);
    const error = { Error: 'PermanentError', Cause: 'SNAPSHOT_INVALID: test' };
    const objects = async (prefix: string) => {
      const keys: string[] = [];
      for await (const object of rt.store.list(`${prefix}/`)) keys.push(object.key);
      return keys;
    };
    expect(await objects(failed.state.prefix)).not.toHaveLength(0);

    // Act
    const result = await cleanup({ ...failed.state, nodeResults: [failed.node], error }, localContext('backup-cleanup')) as { discarded: number };
    await cleanup({ ...complete.state, nodeResults: [complete.node], error }, localContext('backup-cleanup'));

    // Assess
    expect(result.discarded).toBeGreaterThan(0);
    expect(await objects(failed.state.prefix)).toEqual([]);
    expect(await objects(complete.state.prefix)).toEqual(expect.arrayContaining([manifestKey(complete.state.prefix)]));
    expect((await rt.catalog.list()).map((b) => b.backupId)).toEqual([complete.state.backupId]);
  });

  it('resolves $secret references for the driver but never puts the value in the state', async () => {
    // Prepare
    const withSecret = { ...request(), config: { endpoints: [etcd.clientUrl], dialTimeoutMs: 3000, username: 'root', password: { $secret: 'env:ETCD_TEST_PASSWORD' } } };

    // Act
    const state = await prepareBackup(withSecret, rt.deps);

    // Assess
    expect(JSON.stringify(state)).not.toContain('not-used');
    expect(state.config.password).toEqual({ $secret: 'env:ETCD_TEST_PASSWORD' });
  });

  it('rejects bad input with a named error before touching anything', async () => {
    await expect(prepareBackup({ engine: 'nosuch', instance: 'x', config: {} }, rt.deps)).rejects.toMatchObject({ code: 'UNKNOWN_ENGINE' });
    await expect(prepareBackup({ engine: 'etcd', instance: '../escape', config: { endpoints: [etcd.clientUrl] } }, rt.deps)).rejects.toMatchObject({ code: 'INVALID_NAME' });
    await expect(prepareBackup({ engine: 'etcd', instance: 'x', config: { endpoints: 'nope' } }, rt.deps)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(prepareBackup({ engine: 'etcd', instance: 'x' }, rt.deps)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(existsSync(rt.storeDir) ? await readdir(rt.storeDir) : []).toEqual([]);
  });
});
