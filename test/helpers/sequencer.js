/**
 * The order jest gives the test files to its workers: the files that run whole nights on real
 * Spark first, then jest's own order (files that failed last time, then the longest by the
 * durations it cached, else the largest). With two workers, a night started last runs alone while
 * the other worker idles: in one measured integration run the out-of-memory night started after
 * seven minutes and ran its last six alone. jest's cache of durations is kept per checkout path,
 * so a fresh clone has none, and file size does not tell a night from a table of cases.
 */
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

/** Longest first (each a few minutes in the suite's summary); paths from the repository root. */
const LONG_FIRST = [
  'test/integration/daily-pipeline.test.ts',
  'test/integration/kubernetes-night.test.ts',
  'test/integration/warm-driver.test.ts',
  'test/kubernetes/spark-submit-escalation.test.ts',
  'test/kubernetes/operator-submit-local.test.ts',
  'test/kubernetes/spark-submit-local.test.ts',
];

function relativePath(test) {
  return path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/');
}

class LongFirstSequencer extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const i = LONG_FIRST.indexOf(relativePath(test));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // Array sort is stable: files of one rank (all but the named ones) keep jest's order.
    return super.sort(tests).sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongFirstSequencer;
module.exports.LONG_FIRST = LONG_FIRST;
