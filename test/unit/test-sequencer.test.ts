/**
 * The order the test files reach jest's workers (test/helpers/sequencer.js): the named long nights
 * first, longest first, then jest's own order, which it keeps among the others.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const LongFirstSequencer = require('../helpers/sequencer.js') as {
  new (options: object): { sort(tests: FakeTest[]): FakeTest[] };
  LONG_FIRST: string[];
};

const ROOT = join(__dirname, '..', '..');

interface FakeTest {
  path: string;
  duration?: number;
  context: { config: { rootDir: string; cache: boolean; id: string }; hasteFS: { getSize(p: string): number } };
}

/** Tests as jest hands them to a sequencer, without cached durations: jest orders them by size. */
function tests(sizes: Record<string, number>): FakeTest[] {
  const hasteFS = { getSize: (p: string) => sizes[p.slice(ROOT.length + 1)] ?? 0 };
  return Object.keys(sizes).map((rel) => ({ path: join(ROOT, rel), context: { config: { rootDir: ROOT, cache: false, id: 'unit' }, hasteFS } }));
}

const order = (sorted: FakeTest[]): string[] => sorted.map((t) => t.path.slice(ROOT.length + 1));

test('every file it names exists, so a renamed night cannot silently fall back to jest\'s order', () => {
  expect(LongFirstSequencer.LONG_FIRST.length).toBeGreaterThan(0);
  for (const rel of LongFirstSequencer.LONG_FIRST) expect(existsSync(join(ROOT, rel))).toBe(true);
});

test('the long nights go first in the order named, the other files keep jest\'s order (here: largest first)', () => {
  const [longest, second] = LongFirstSequencer.LONG_FIRST as [string, string];
  const sorted = new LongFirstSequencer({}).sort(tests({
    'test/integration/small.test.ts': 100,
    [second]: 10,
    'test/integration/large.test.ts': 50_000,
    [longest]: 20,
    'test/integration/medium.test.ts': 5_000,
  }));
  expect(order(sorted)).toEqual([longest, second, 'test/integration/large.test.ts', 'test/integration/medium.test.ts', 'test/integration/small.test.ts']);
});

test('without a named file among them, the order is jest\'s own', () => {
  const sizes = { 'test/unit/a.test.ts': 3, 'test/unit/b.test.ts': 30, 'test/unit/c.test.ts': 300 };
  expect(order(new LongFirstSequencer({}).sort(tests(sizes)))).toEqual(['test/unit/c.test.ts', 'test/unit/b.test.ts', 'test/unit/a.test.ts']);
});
