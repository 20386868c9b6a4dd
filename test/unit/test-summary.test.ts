/**
 * The test command's closing report (scripts/test-summary.js): the totals line CI reads, and
 * where the time went — each runner's wall time and the slowest test files, slowest first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'test-summary.js');
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'nightjar-summary-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function summarize(...files: string[]): { status: number | null; lines: string[]; errors: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...files], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, lines: r.stdout.trim().split('\n'), errors: r.stderr };
}

function jestJson(name: string, failedTests: number, files: Array<[string, number, number]>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({
    numPassedTests: 3, numFailedTests: failedTests, numPendingTests: 1, numTodoTests: 0, numRuntimeErrorTestSuites: 0,
    startTime: 1_000_000,
    testResults: files.map(([path, start, end]) => ({ name: join(dir, path), startTime: 1_000_000 + start * 1000, endTime: 1_000_000 + end * 1000 })),
  }));
  return file;
}

test('adds every runner up, then names each runner\'s wall time and the slowest files first', () => {
  const xml = join(dir, 'pytest.xml');
  writeFileSync(xml, '<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="2" tests="10" time="117.4"></testsuite></testsuites>');
  const fast = jestJson('jest-fast.json', 0, [['test/a.test.ts', 0, 5], ['test/b.test.ts', 5, 65]]);
  const slow = jestJson('jest-integration.json', 2, [['test/c.test.ts', 0, 295]]);

  const { status, lines } = summarize(xml, fast, slow);

  expect(status).toBe(1);
  expect(lines[lines.length - 1]).toBe('tests: 13 passed, 3 failed, 4 skipped');
  expect(lines.slice(0, 4).map((l) => l.trim())).toEqual(['time by runner:', '117 s  pytest.xml', '65 s  jest-fast.json', '295 s  jest-integration.json']);
  expect(lines.slice(4, 8).map((l) => l.trim())).toEqual(['slowest test files (of 3):', '295 s  test/c.test.ts', '60 s  test/b.test.ts', '5 s  test/a.test.ts']);
});

test('a runner that left no results counts as a failure and says which', () => {
  const fast = jestJson('jest-fast.json', 0, [['test/a.test.ts', 0, 5]]);
  const { status, lines, errors } = summarize(fast, join(dir, 'jest-browser.json'));
  expect(status).toBe(1);
  expect(errors).toContain(`test summary: ${join(dir, 'jest-browser.json')} is missing (that runner did not finish)`);
  expect(lines[lines.length - 1]).toBe('tests: 3 passed, 1 failed, 1 skipped');
});

test('all passed ends with status 0', () => {
  const { status, lines } = summarize(jestJson('jest-fast.json', 0, [['test/a.test.ts', 0, 5]]));
  expect(status).toBe(0);
  expect(lines[lines.length - 1]).toBe('tests: 3 passed, 0 failed, 1 skipped');
});
