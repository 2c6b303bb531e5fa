/** Unit and real-server integration tests. Servers are started by the harness in test/harness. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  testSequencer: '<rootDir>/test/harness/sequencer.cjs',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 120_000,
  maxWorkers: 2,
  // Not a leak: a worker ends holding 1-1.5 GB (CDK synths, bundles, idle hashing threads of every
  // test file's own module copy); it has no handle open and its 'exit' comes within ~50 ms of jest's
  // end message, but Node.js takes ~1 s more to free that memory on a 2-core host. Past jest's
  // default 500 ms jest kills it and warns "A worker process has failed to exit gracefully".
  workerGracefulExitTimeout: 5_000,
};
