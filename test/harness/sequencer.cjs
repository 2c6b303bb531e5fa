/**
 * jest's own test order, noting on the way which engines the selected test files need
 * (engines-needed.cjs) for the global setup, which installs only theirs: running the etcd tests does
 * not install every other engine's servers. jest sorts the tests before it runs the global setup,
 * in the same process.
 */
const Sequencer = require('@jest/test-sequencer').default;
const { enginesNeeded } = require('./engines-needed.cjs');

/** The variable the global setup reads: the engines to install, comma-separated (unset: every one). */
const ENGINES_ENV = 'DBBACKUP_TEST_ENGINES';

class EngineNotingSequencer extends Sequencer {
  sort(tests) {
    process.env[ENGINES_ENV] = enginesNeeded(tests.map((test) => test.path)).join(',');
    return super.sort(tests);
  }
}

module.exports = EngineNotingSequencer;
