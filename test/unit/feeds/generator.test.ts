import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { feedSpec, FEED_NAMES, KNOWN_CURRENCIES, type FeedName } from '../../../src/domain/feeds/catalog';
import { validateLine, type FeedRow } from '../../../src/domain/feeds/schemas';
import { DEFECT_KINDS, generateFeeds, type DefectKind, type GenerateFeedsOptions, type GenerateFeedsResult } from '../../../demo/feeds/generate-feeds';
import { inspectFeedFile } from '../../../src/feeds/inspect';

const BUSINESS_DATE = '2026-11-20';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nightjar-generator-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function generate(options: Partial<GenerateFeedsOptions> & { landingDir: string }): Promise<GenerateFeedsResult> {
  return generateFeeds({ businessDate: BUSINESS_DATE, seed: 7, transactions: 2000, defectRate: 0, ...options });
}

/** Data lines of a generated file (without header and trailer). */
async function dataLines(file: string): Promise<string[]> {
  const all = (await readFile(file, 'utf8')).split('\n');
  expect(all.pop()).toBe('');
  return all.slice(1, -1);
}

describe('generateFeeds', () => {
  it('writes every catalog feed with a sidecar and reports its rows and digest', async () => {
    const result = await generate({ landingDir: dir });
    expect(result.feeds.map((f) => f.feed)).toEqual(FEED_NAMES);
    const sizes = Object.fromEntries(result.feeds.map((f) => [f.feed, f.rows]));
    expect(sizes).toEqual({ customers: 100, accounts: 150, transactions: 2000, payments: 400, fx_rates: KNOWN_CURRENCIES.length });
    for (const feed of result.feeds) {
      expect(feed.path).toBe(path.join(dir, `${feed.feed}.csv`));
      expect(await readFile(`${feed.path}.sha256`, 'utf8')).toBe(`${feed.sha256}  ${feed.feed}.csv\n`);
    }
  });

  it('honours explicit sizes and the minimum customer base', async () => {
    const result = await generate({ landingDir: dir, transactions: 10, customers: 60, accounts: 70, payments: 3 });
    expect(result.feeds.map((f) => f.rows)).toEqual([60, 70, 10, 3, KNOWN_CURRENCIES.length]);
    const small = await generate({ landingDir: path.join(dir, 'small'), transactions: 10 });
    expect(small.feeds[0]!.rows).toBe(50);
  });

  it('is deterministic: the same seed gives byte-identical files', async () => {
    const first = await generate({ landingDir: path.join(dir, 'a'), defectRate: 0.02 });
    const second = await generate({ landingDir: path.join(dir, 'b'), defectRate: 0.02 });
    expect(second.feeds.map((f) => f.sha256)).toEqual(first.feeds.map((f) => f.sha256));
    expect(await readFile(second.feeds[2]!.path)).toEqual(await readFile(first.feeds[2]!.path));
  });

  it('gives different data for a different seed', async () => {
    const first = await generate({ landingDir: path.join(dir, 'a'), seed: 1 });
    const second = await generate({ landingDir: path.join(dir, 'b'), seed: 2 });
    for (const name of ['customers', 'accounts', 'transactions', 'payments'] as const) {
      const a = first.feeds.find((f) => f.feed === name)!;
      const b = second.feeds.find((f) => f.feed === name)!;
      expect(b.sha256).not.toBe(a.sha256);
    }
  });

  it('rejects invalid options with a message naming the option', async () => {
    await expect(generate({ landingDir: dir, businessDate: '2026-02-30' })).rejects.toThrow(/businessDate/);
    await expect(generate({ landingDir: dir, defectRate: 1.5 })).rejects.toThrow(/defectRate/);
    await expect(generate({ landingDir: dir, transactions: -1 })).rejects.toThrow(/transactions/);
  });

  describe('clean feeds', () => {
    // Generated and parsed once: the checks below only read.
    let cleanDir: string;
    let result: GenerateFeedsResult;
    const lines: Partial<Record<FeedName, string[]>> = {};
    const rows: Partial<Record<FeedName, FeedRow[]>> = {};
    beforeAll(async () => {
      cleanDir = await mkdtemp(path.join(os.tmpdir(), 'nightjar-generator-clean-'));
      result = await generate({ landingDir: cleanDir, transactions: 5000 });
      for (const feed of result.feeds) {
        lines[feed.feed] = await dataLines(feed.path);
        rows[feed.feed] = lines[feed.feed]!.map((line) => {
          const validation = validateLine(feedSpec(feed.feed), line, BUSINESS_DATE);
          if (!validation.ok) throw new Error(`${feed.feed}: clean line rejected with ${validation.reason}`);
          return validation.row;
        });
      }
    });
    afterAll(async () => {
      await rm(cleanDir, { recursive: true, force: true });
    });
    const column = (feed: FeedName, name: string) => rows[feed]!.map((row) => row[name] ?? '');

    it('pass inspectFeedFile with matching count, control sum and sidecar', async () => {
      for (const feed of result.feeds) {
        const inspection = await inspectFeedFile(feed.path, feedSpec(feed.feed));
        expect(inspection).toMatchObject({ rowsIn: feed.rows, controlCount: feed.rows, sha256: feed.sha256, sidecarVerified: true });
        expect(inspection.computedSum).toBe(inspection.controlSum);
      }
    });

    it('have no defects and every line passes validateLine', () => {
      for (const feed of result.feeds) {
        expect(Object.values(feed.defects).every((n) => n === 0)).toBe(true);
        // beforeAll throws on the first rejected line; every line was parsed.
        expect(rows[feed.feed]).toHaveLength(feed.rows);
      }
    });

    it('have unique primary keys and references that resolve', () => {
      for (const [feed, key] of [['customers', 'customer_id'], ['accounts', 'account_id'], ['transactions', 'txn_id'], ['payments', 'payment_id'], ['fx_rates', 'currency']] as const) {
        const keys = column(feed, key);
        expect(new Set(keys).size).toBe(keys.length);
      }
      const customerIds = new Set(column('customers', 'customer_id'));
      const accountIds = new Set(column('accounts', 'account_id'));
      expect(column('accounts', 'customer_id').every((id) => customerIds.has(id))).toBe(true);
      expect(column('transactions', 'account_id').every((id) => accountIds.has(id))).toBe(true);
      expect(column('payments', 'debtor_account_id').every((id) => accountIds.has(id))).toBe(true);
    });

    it('have an fx rate per known currency on the business date, EUR at 1', () => {
      const rates = Object.fromEntries(rows.fx_rates!.map((r) => [r.currency, r.rate]));
      expect(Object.keys(rates).sort()).toEqual([...KNOWN_CURRENCIES].sort());
      expect(rates.EUR).toBe('1.00000000');
      expect(column('fx_rates', 'rate_date').every((d) => d === BUSINESS_DATE)).toBe(true);
    });

    it('book every transaction on the business date', () => {
      expect(column('transactions', 'booked_at').every((t) => t.startsWith(`${BUSINESS_DATE}T`))).toBe(true);
    });

    it('quote text fields that contain a comma', () => {
      expect(lines.payments!.some((line) => line.includes('"'))).toBe(true);
      expect(column('payments', 'creditor_name').some((name) => name.includes(','))).toBe(true);
    });

    it('plant large values and structuring patterns for the risk alerts', () => {
      const cents = (amount: string | null | undefined) => Number(amount!.replace('.', ''));
      const euro = rows.transactions!.filter((r) => r.currency === 'EUR');
      expect(euro.filter((r) => cents(r.amount) >= 1_000_000).length).toBeGreaterThanOrEqual(3);
      const band = new Map<string, number[]>();
      for (const r of euro) {
        const amount = cents(r.amount);
        const cash = r.channel === 'ATM' || r.channel === 'BRANCH';
        if (cash && r.direction === 'CREDIT' && amount >= 800_000 && amount < 1_000_000) {
          band.set(r.account_id!, [...(band.get(r.account_id!) ?? []), amount]);
        }
      }
      const structuring = [...band.values()].filter((a) => a.length >= 3 && a.reduce((s, x) => s + x, 0) >= 1_000_000);
      expect(structuring.length).toBeGreaterThanOrEqual(2);
    });

    it('onboard some customers on the business date across funnel stages and channels', () => {
      const today = rows.customers!.filter((r) => r.onboarded_at!.startsWith(BUSINESS_DATE));
      expect(today.length).toBeGreaterThanOrEqual(12);
      expect(new Set(today.map((r) => r.onboarding_stage)).size).toBeGreaterThanOrEqual(4);
      expect(new Set(today.map((r) => r.channel)).size).toBe(3);
      const before = rows.customers!.filter((r) => r.onboarded_at! < BUSINESS_DATE);
      expect(before.length).toBeGreaterThan(today.length);
    });

    it('write plausible personal data', () => {
      const emails = column('customers', 'email').filter((e) => e !== '');
      expect(emails.every((e) => /^[a-z]+\.[a-z]+[0-9]*@[a-z.]+\.(com|org|net|example)$/.test(e))).toBe(true);
      expect(column('payments', 'creditor_iban').every(ibanChecksumIsValid)).toBe(true);
      expect(column('accounts', 'iban').every(ibanChecksumIsValid)).toBe(true);
    });
  });

  describe('defects', () => {
    /** The reason validateLine gives each defect kind in each feed (duplicates are rule 4, found by key). */
    const EXPECTED: Record<Exclude<FeedName, 'fx_rates'>, Partial<Record<DefectKind, string>>> = {
      customers: { 'malformed-row': 'MALFORMED_RECORD:field_count', 'bad-date': 'INVALID_FORMAT:date_of_birth', 'broken-quoting': 'MALFORMED_RECORD:quoting' },
      accounts: { 'malformed-row': 'MALFORMED_RECORD:field_count', 'unknown-currency': 'UNKNOWN_CURRENCY:currency', 'bad-date': 'INVALID_FORMAT:opened_on' },
      transactions: {
        'malformed-row': 'MALFORMED_RECORD:field_count',
        'unknown-currency': 'UNKNOWN_CURRENCY:currency',
        'bad-date': 'INVALID_FORMAT:value_date',
        'broken-quoting': 'MALFORMED_RECORD:quoting',
      },
      payments: {
        'malformed-row': 'MALFORMED_RECORD:field_count',
        'unknown-currency': 'UNKNOWN_CURRENCY:currency',
        'bad-date': 'INVALID_FORMAT:initiated_at',
        'broken-quoting': 'MALFORMED_RECORD:quoting',
      },
    };

    it('inject each kind at roughly the rate, each rejected with its reason, and files still pass inspection', async () => {
      const rate = 0.05;
      const sizes = { transactions: 5000, customers: 1000, accounts: 1500, payments: 1000 };
      const result = await generate({ landingDir: dir, ...sizes, defectRate: rate });
      for (const feed of result.feeds) {
        const spec = feedSpec(feed.feed);
        expect(await inspectFeedFile(feed.path, spec)).toMatchObject({ rowsIn: feed.rows });
        const total = Object.values(feed.defects).reduce((a, b) => a + b, 0);
        const name = feed.feed;
        if (name === 'fx_rates') {
          expect(total).toBe(0);
          continue;
        }
        expect(total).toBeGreaterThan(feed.rows * rate * 0.7);
        expect(total).toBeLessThan(feed.rows * rate * 1.3);

        const seen = new Set<string>();
        const reasons: Record<string, number> = {};
        let duplicates = 0;
        for (const line of await dataLines(feed.path)) {
          const key = line.slice(0, line.indexOf(','));
          if (seen.has(key)) duplicates++;
          seen.add(key);
          const validation = validateLine(spec, line, BUSINESS_DATE);
          if (!validation.ok) reasons[validation.reason] = (reasons[validation.reason] ?? 0) + 1;
        }
        const expected: Record<string, number> = {};
        for (const [kind, reason] of Object.entries(EXPECTED[name])) {
          if (feed.defects[kind as DefectKind] > 0) expected[reason] = feed.defects[kind as DefectKind];
        }
        expect({ name, reasons }).toEqual({ name, reasons: expected });
        expect({ name, duplicates }).toEqual({ name, duplicates: feed.defects['duplicate-id'] });
        // Every kind that applies to the feed occurred.
        const applicable = DEFECT_KINDS.filter((kind) => kind === 'duplicate-id' || EXPECTED[name][kind] !== undefined);
        expect({ name, missing: applicable.filter((kind) => feed.defects[kind] === 0) }).toEqual({ name, missing: [] });
      }
    });

    it('inject only the chosen kinds', async () => {
      const result = await generate({ landingDir: dir, defectRate: 0.1, defectKinds: ['unknown-currency'] });
      const transactions = result.feeds.find((f) => f.feed === 'transactions')!;
      expect(transactions.defects['unknown-currency']).toBeGreaterThan(100);
      expect(Object.values(transactions.defects).reduce((a, b) => a + b, 0)).toBe(transactions.defects['unknown-currency']);
      expect(result.feeds.find((f) => f.feed === 'customers')!.defects).toEqual(Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])));
    });

    it('keep the data of clean lines when only the defect rate changes', async () => {
      const clean = await dataLines((await generate({ landingDir: path.join(dir, 'a') })).feeds[2]!.path);
      const dirty = await dataLines((await generate({ landingDir: path.join(dir, 'b'), defectRate: 0.05 })).feeds[2]!.path);
      const same = dirty.filter((line, i) => line === clean[i]).length;
      expect(same).toBeGreaterThan(clean.length * 0.9);
    });
  });
});

function ibanChecksumIsValid(iban: string): boolean {
  const rearranged = `${iban.slice(4)}${iban.slice(0, 4)}`;
  let remainder = 0;
  for (const c of rearranged) {
    const value = /[0-9]/.test(c) ? c : String(c.charCodeAt(0) - 55);
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}
