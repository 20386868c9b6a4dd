// Adds up pytest's JUnit XML and jest's JSON results into one closing line.
'use strict';
const fs = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    console.error(`test summary: ${file} is missing (that runner did not finish)`);
    failed += 1;
    continue;
  }
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.xml')) {
    const m = /<testsuite\b[^>]*>/.exec(text);
    const attr = (name) => Number((m && new RegExp(`\\b${name}="(\\d+)"`).exec(m[0])?.[1]) || 0);
    const total = attr('tests');
    const bad = attr('failures') + attr('errors');
    skipped += attr('skipped');
    failed += bad;
    passed += total - bad - attr('skipped');
  } else {
    const r = JSON.parse(text);
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    skipped += r.numPendingTests + (r.numTodoTests || 0);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
