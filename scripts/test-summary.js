// Adds up pytest's JUnit XML and jest's JSON results into one closing line, after where the time
// went: each runner's wall time and the slowest test files, so a slow suite shows its cause in
// the run's own output.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SLOWEST = 12;
let passed = 0;
let failed = 0;
let skipped = 0;
const runners = [];
const files = [];
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    console.error(`test summary: ${file} is missing (that runner did not finish)`);
    failed += 1;
    continue;
  }
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.xml')) {
    const m = /<testsuite\b[^>]*>/.exec(text);
    const attr = (name) => Number((m && new RegExp(`\\b${name}="([\\d.]+)"`).exec(m[0])?.[1]) || 0);
    const total = attr('tests');
    const bad = attr('failures') + attr('errors');
    skipped += attr('skipped');
    failed += bad;
    passed += total - bad - attr('skipped');
    runners.push({ name: path.basename(file), seconds: attr('time') });
  } else {
    const r = JSON.parse(text);
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    skipped += r.numPendingTests + (r.numTodoTests || 0);
    const results = r.testResults || [];
    const end = Math.max(r.startTime, ...results.map((t) => t.endTime || 0));
    runners.push({ name: path.basename(file), seconds: (end - r.startTime) / 1000 });
    for (const t of results) {
      if (t.startTime && t.endTime) files.push({ name: path.relative(process.cwd(), t.name), seconds: (t.endTime - t.startTime) / 1000 });
    }
  }
}
const s = (seconds) => `${Math.round(seconds)} s`.padStart(7);
console.log('time by runner:');
for (const r of runners) console.log(`${s(r.seconds)}  ${r.name}`);
console.log(`slowest test files (of ${files.length}):`);
for (const f of files.sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST)) console.log(`${s(f.seconds)}  ${f.name}`);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
