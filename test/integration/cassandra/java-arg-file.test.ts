/**
 * The argument file through which sstableloader gets its password (java-tool.ts): java's own
 * launcher reads back exactly the arguments written, whatever characters a password holds; the
 * command line (and so a failure's message) shows only the file, which is gone once the tool ends.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ToolErrors } from '../../../core/host/tool-errors';
import { argFile, runJavaTool } from '../../../drivers/cassandra/java-tool';

const ERRORS: ToolErrors = { engine: 'cassandra', fallbackCode: 'TEST_JAVA_FAILED', diagnose: () => undefined };
const SECRET = 'p a"ss\\w#r\'d @x é\t$(id)`x` \\"';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'arg-file-test-')); });
afterEach(() => rm(dir, { recursive: true, force: true }));

const javaArgFiles = async () => (await readdir(os.tmpdir())).filter((name) => name.startsWith('dbbackup-java-args-'));

it('gives java exactly the arguments written, whatever characters they hold', async () => {
  // Prepare: a system property the launcher prints back (-XshowSettings, on stderr)
  const file = path.join(dir, 'args');
  await writeFile(file, argFile([`-Dtest.secret=${SECRET}`, '-XshowSettings:properties', '-version']));

  // Act
  const shown = spawnSync('java', [`@${file}`], { encoding: 'utf8' });

  // Assess
  expect(shown.stderr.split('\n').find((line) => line.includes('test.secret'))?.trim()).toBe(`test.secret = ${SECRET}`);
});

it('keeps the private arguments out of the command line and out of a failure, and removes their file', async () => {
  // Prepare
  const before = await javaArgFiles();

  // Act
  const failed = await runJavaTool('java', ['-Xmx64m', `-Dtest.secret=${SECRET}`, 'no.such.MainClass'], ERRORS, { what: 'java no.such.MainClass', timeoutMs: 60_000, privateArgsFrom: 1 })
    .catch((error: Error) => error);

  // Assess
  expect(failed).toMatchObject({ code: 'TEST_JAVA_FAILED', message: expect.stringContaining('no.such.MainClass') });
  expect((failed as Error).message).not.toContain("r'd @x");
  expect(await javaArgFiles()).toEqual(before);
});

it('escapes what would end or split an argument', () => {
  expect(argFile(['a b', 'line\nnext', 'tab\there', 'q"\\', ''])).toBe('"a b"\n"line\\nnext"\n"tab\\there"\n"q\\"\\\\"\n""\n');
});
