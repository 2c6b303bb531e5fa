/**
 * The install document as the stack's association runs it on a database host, through the SSM
 * stand-in: `aws:downloadContent` fetches the agent bundle from S3, the shell step unpacks it into
 * a release, links `dbbackup` on the SSM agent's PATH, and the linked agent runs. Re-running is a
 * no-op; a new bundle becomes current and old releases go; a host without Node.js 20.15+ is told so.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SSMClient, SendCommandCommand } from '@aws-sdk/client-ssm';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { agentResultFromStdout } from '../../../core/host-runner/agent-result';
import { createS3Client } from '../../../core/store/s3-client';
import { agentInstallDocument } from '../../../infra/agent-install-document';
import { HOST_PACKAGES } from '../../../infra/runtime-dependencies';
import { HOST_BUNDLE_FILE, stageHostBundle, writeHostBundle } from '../../../scripts/host-bundle';
import { tarGz } from '../../../scripts/tar-gz';
import { startTestS3, type TestS3 } from '../../harness/s3';
import { SYSTEM_PATH, startSsmStandin, withNodeDir, type SsmStandin } from '../../harness/ssm-standin';
import { tempDir } from '../../harness/test-run';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '..', '..', '..');
const HOST = 'i-0123456789abcdef0';
const REGION = 'eu-west-1';
const HOST_PATH = withNodeDir(SYSTEM_PATH);
const BUILT_WITH = `Node.js ${process.version} on ${process.platform}-${process.arch}`;

let work: string;
let s3: TestS3;
let bundle: Buffer;
let ssm: SsmStandin;
let client: SSMClient;
const published: string[] = [];

/** Publishes `bundle` (or `body`) as release `release` (as the stack's asset) and registers its install document. */
async function publish(release: string, body: Buffer = bundle): Promise<string> {
  const s3Client = createS3Client({ endpoint: s3.env.AWS_ENDPOINT_URL_S3, region: REGION, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await s3Client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${release}.tgz`, Body: body }));
  s3Client.destroy();
  const name = `DbBackup-InstallAgent-${release.slice(0, 8)}`;
  ssm.addDocument(name, agentInstallDocument({ bundleUrl: `https://s3.${REGION}.amazonaws.com/${s3.bucket}/${release}.tgz`, release, packages: HOST_PACKAGES, builtWith: BUILT_WITH }));
  published.push(name);
  return name;
}

/** A stand-in whose instances have `hostPath` as the SSM agent's PATH and read S3 from the test's s3rver. */
async function startHost(hostPath: string): Promise<void> {
  client?.destroy();
  await ssm?.stop();
  ssm = await startSsmStandin({
    region: REGION, instanceIds: [HOST], path: hostPath, cwd: work,
    instanceS3: { endpoint: s3.env.AWS_ENDPOINT_URL_S3 ?? '', region: REGION, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
  });
  client = new SSMClient({ ...ssm.clientConfig, maxAttempts: 1 });
}

async function install(document: string, root: string, binDir: string) {
  const sent = await client.send(new SendCommandCommand({ DocumentName: document, InstanceIds: [HOST], Parameters: { installRoot: [root], binDir: [binDir] } }));
  return ssm.waitForEnd(sent.Command?.CommandId ?? '', HOST, 120_000);
}

beforeAll(async () => {
  work = await tempDir('install');
  writeHostBundle(REPO, path.join(work, HOST_BUNDLE_FILE));
  bundle = await readFile(path.join(work, HOST_BUNDLE_FILE));
  s3 = await startTestS3();
  await startHost(HOST_PATH);
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await ssm?.stop();
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

it('installs the published bundle and links a dbbackup whose agent runs; running it again changes nothing', async () => {
  // Prepare
  const release = createHash('sha256').update(bundle).digest('hex');
  const document = await publish(release);
  const root = path.join(work, 'opt-a');
  const binDir = path.join(work, 'bin-a');

  // Act
  const first = await install(document, root, binDir);
  await writeFile(path.join(root, 'releases', release, 'marker'), 'kept');
  const again = await install(document, root, binDir);
  const agent = await run(path.join(binDir, 'dbbackup'), ['agent', 'backup-cleanup', '--input', '{}'], { env: { PATH: HOST_PATH, HOME: work } }).catch((error: { stdout: string; code: number }) => error);

  // Assess
  expect(first).toMatchObject({ status: 'Success' });
  expect(first.stdout).toContain(`dbbackup agent ${release} installed`);
  expect(again).toMatchObject({ status: 'Success' });
  expect(await readFile(path.join(root, 'releases', release, 'marker'), 'utf8')).toBe('kept');
  expect(await readlink(path.join(root, 'current'))).toBe(path.join(root, 'releases', release));
  expect(agentResultFromStdout(agent.stdout)).toMatchObject({ ok: false, error: { name: 'PermanentError', code: 'INVALID_INPUT' } });
  expect(await readdir(path.join(root, 'downloads'))).toEqual([]);
});

it('a new bundle becomes current, and only the two most recent releases stay', async () => {
  // Prepare
  const root = path.join(work, 'opt-b');
  const binDir = path.join(work, 'bin-b');
  const releases = ['1111111111111111', '2222222222222222', '3333333333333333'];
  const names = [];
  for (const release of releases) names.push(await publish(release));

  // Act
  for (const name of names) expect(await install(name, root, binDir)).toMatchObject({ status: 'Success' });

  // Assess
  expect((await readdir(path.join(root, 'releases'))).sort()).toEqual(releases.slice(1));
  expect(await readlink(path.join(root, 'current'))).toBe(path.join(root, 'releases', releases[2]));
});

it('refuses a host without Node.js 20.15 or later, saying what it found', async () => {
  // Prepare: a PATH whose node is too old
  const oldNode = path.join(work, 'old-node');
  await mkdir(oldNode);
  await writeFile(path.join(oldNode, 'node'), '#!/bin/sh\nif [ "$1" = --version ]; then echo v18.19.0; exit 0; fi\nexit 1\n');
  await chmod(path.join(oldNode, 'node'), 0o755);
  await startHost(`${oldNode}:/usr/bin:/bin`);
  const document = await publish('4444444444444444');

  // Act
  const ended = await install(document, path.join(work, 'opt-c'), path.join(work, 'bin-c'));

  // Assess
  expect(ended).toMatchObject({ status: 'Failed' });
  expect(ended.stderr).toContain('dbbackup needs Node.js 20.15 or later on the PATH (found: v18.19.0)');
});

it('refuses a bundle whose native addon this host\'s Node.js cannot load (built for another major or platform), leaving the current release', async () => {
  // Prepare: the ZooKeeper client's addon as another Node.js major or platform would find it: not loadable here
  await startHost(HOST_PATH);
  const staged = path.join(work, 'foreign-bundle');
  stageHostBundle(REPO, staged);
  await writeFile(path.join(staged, 'node_modules', 'zookeeper', 'build', 'Release', 'zookeeper.node'), 'built for another Node.js');
  const root = path.join(work, 'opt-d');
  const binDir = path.join(work, 'bin-d');
  expect(await install(await publish(createHash('sha256').update(bundle).digest('hex')), root, binDir)).toMatchObject({ status: 'Success' });
  const document = await publish('5555555555555555', tarGz(staged));

  // Act
  const ended = await install(document, root, binDir);

  // Assess
  expect(ended).toMatchObject({ status: 'Failed' });
  expect(ended.stderr).toMatch(new RegExp(`dbbackup: the agent bundle was built with ${BUILT_WITH.replace(/[.]/g, '\\.')}; this host runs Node\\.js v[0-9.]+ on linux-x64, which cannot load zookeeper: `));
  expect(ended.stderr).toContain('(deploy the stack from a machine with the Node.js major version and the architecture of the hosts)');
  expect(await readlink(path.join(root, 'current'))).toBe(path.join(root, 'releases', createHash('sha256').update(bundle).digest('hex')));
});

it('refuses an install root that is not a plain absolute path, before anything runs', async () => {
  // Prepare
  const document = published[published.length - 1];

  // Act
  const sending = client.send(new SendCommandCommand({ DocumentName: document, InstanceIds: [HOST], Parameters: { installRoot: ['/opt/../etc'] } }));

  // Assess
  await expect(sending).rejects.toMatchObject({ name: 'InvalidParameters' });
});
