/** Which engines' servers a selection of test files needs installed (test/harness/engines-needed.cjs). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, as jest loads the sequencer
const { enginesNeeded, builtinEngines } = require('../../harness/engines-needed.cjs') as {
  enginesNeeded(files: string[]): string[];
  builtinEngines(): string[];
};

describe('engines a test selection needs', () => {
  it('are the built-in drivers\' folders', () => {
    expect(builtinEngines()).toEqual(expect.arrayContaining(['etcd', 'mysql']));
  });

  it('follow imports into a driver folder, not through the list of every driver', () => {
    expect(enginesNeeded(['test/integration/etcd/round-trip.test.ts'])).toEqual(['etcd']);
    expect(enginesNeeded(['test/integration/mysql/physical.test.ts'])).toEqual(['mysql']);
    expect(enginesNeeded(['test/unit/repo/readme-drivers.test.ts', 'test/unit/concurrency.test.ts'])).toEqual([]);
    expect(enginesNeeded(['test/integration/etcd/round-trip.test.ts', 'test/integration/mysql/physical.test.ts'])).toEqual(['etcd', 'mysql']);
  });

  it('include a driver folder reached by a test of that engine', () => {
    expect(builtinEngines()).toContain('cassandra');
    expect(enginesNeeded(['test/integration/cassandra/server.test.ts'])).toEqual(['cassandra']);
  });

  it("are every engine for the driver contract suite and a test file carrying the every-engine marker (the demo's)", () => {
    expect(enginesNeeded(['test/integration/contract/drivers.test.ts'])).toEqual(builtinEngines());
    expect(enginesNeeded(['test/integration/contract/drivers-more.test.ts'])).toEqual(builtinEngines());
    expect(enginesNeeded(['test/integration/cli/cli.test.ts'])).toEqual(builtinEngines());
  });
});
