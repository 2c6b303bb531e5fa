/** A JSON option (`--config`, `--target`) given inline or as `@file`. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseJsonOption } from '../../../bin/cli-context';
import { tempDir } from '../../harness/test-run';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('json-option');
});

describe('parseJsonOption', () => {
  it('reads a file an editor saved with a byte-order mark first', async () => {
    // Prepare
    const file = path.join(dir, 'config.json');
    await writeFile(file, '\uFEFF{"host": "db1", "port": 3306}');

    // Act
    const value = parseJsonOption(`@${file}`, '--config');

    // Assess
    expect(value).toEqual({ host: 'db1', port: 3306 });
  });

  it('names the option when the text is not JSON, or not an object', () => {
    // Act
    const broken = () => parseJsonOption('{"host":', '--config');
    const list = () => parseJsonOption('[1]', '--target');

    // Assess
    expect(broken).toThrow(/^--config is not valid JSON: /);
    expect(list).toThrow('--target must be a JSON object');
  });

  it('says to put @ before a file name given bare', async () => {
    // Prepare
    const file = path.join(dir, 'trips.json');
    await writeFile(file, '{"host": "db1"}');

    // Act
    const bare = () => parseJsonOption(file, '--config');

    // Assess
    expect(bare).toThrow(`(to read the file ${file}, give @${file})`);
  });
});
