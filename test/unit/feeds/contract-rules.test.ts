import fs from 'node:fs';
import path from 'node:path';
import { feedSpec, type FeedName } from '../../../src/domain/feeds/catalog';
import { validateLine } from '../../../src/domain/feeds/schemas';
import { formatScaledDecimal, parseScaledDecimal } from '../../../src/domain/feeds/trailer';
import { controlField } from '../../../src/feeds/inspect';

/**
 * The ingest's row screen and trailer check against the crafted lines that pin the contract's
 * rules (docs/spark-jobs.md); spark/tests/test_contract_rules.py holds normalize to the same files.
 */
const CONTRACT = path.join(__dirname, '..', '..', 'fixtures', 'contract');
const read = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(CONTRACT, name), 'utf8')) as T;

interface RowCase { readonly rule: string; readonly feed: FeedName; readonly line: string; readonly reason: string | null; readonly note?: string }
interface ControlCase { readonly line: string; readonly index: number; readonly scale: number; readonly value: string | null }

const rows = read<{ businessDate: string; cases: RowCase[] }>('rows.json');
const controls = read<{ cases: ControlCase[] }>('control-values.json');

describe('rules 1-3: the row screen gives the reason normalize gives', () => {
  test.each(rows.cases.map((c) => [`${c.rule} ${c.feed}: ${c.note ?? c.reason ?? 'passes'}`, c] as const))('%s', (_name, c) => {
    const result = validateLine(feedSpec(c.feed), c.line, rows.businessDate);
    expect(result.ok ? null : result.reason).toBe(c.reason);
  });

  test('the fixture covers every rule the docs list', () => {
    expect(new Set(rows.cases.map((c) => c.rule))).toEqual(
      new Set(['order', 'empty', 'maxLength', 'decimal', 'bounds', 'timestamp', 'date', 'minorUnit', 'businessDate']),
    );
  });
});

describe("a line's control value, as the trailer's control sum counts it", () => {
  test.each(controls.cases.map((c) => [JSON.stringify(c.line), c] as const))('%s', (_name, c) => {
    const field = controlField(c.line, c.index);
    const scaled = field === undefined ? null : parseScaledDecimal(field, c.scale);
    expect(scaled === null ? null : formatScaledDecimal(scaled, c.scale)).toBe(c.value === null ? null : formatScaledDecimal(parseScaledDecimal(c.value, c.scale)!, c.scale));
  });
});
