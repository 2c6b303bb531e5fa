/**
 * jest's own test order (the driver contract suite first when no durations are recorded), noting on the way which engines the selected test files need
 * (engines-needed.cjs) for the global setup, which installs only theirs: running the etcd tests does
 * not install every other engine's servers. jest sorts the tests before it runs the global setup,
 * in the same process.
 */
const Sequencer = require('@jest/test-sequencer').default;
const { enginesNeeded } = require('./engines-needed.cjs');

/** The variable the global setup reads: the engines to install, comma-separated (unset: every one). */
const ENGINES_ENV = 'DBBACKUP_TEST_ENGINES';

/**
 * Suites that run every engine's kit in one file (the driver contract suite): small files, so on a
 * fresh clone — no recorded durations, jest orders by file size — they came last, ~10 minutes of
 * suites in a tail. Without a recorded duration they go first.
 */
const LONG_SUITES = /[\\/]test[\\/]integration[\\/]contract[\\/]/;

class EngineNotingSequencer extends Sequencer {
  sort(tests) {
    process.env[ENGINES_ENV] = enginesNeeded(tests.map((test) => test.path)).join(',');
    const sorted = super.sort(tests);
    const longFirst = (test) => test.duration == null && LONG_SUITES.test(test.path);
    return [...sorted.filter(longFirst), ...sorted.filter((test) => !longFirst(test))];
  }
}

module.exports = EngineNotingSequencer;
