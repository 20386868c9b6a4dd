import { FEEDS, feedSpec, type FeedSpec } from '../../../src/domain/feeds/catalog';
import { rowSchema, splitQuotedLine, validateLine, validateRecord } from '../../../src/domain/feeds/schemas';

const BUSINESS_DATE = '2026-11-20';
const transactions = feedSpec('transactions');
const customers = feedSpec('customers');
const fxRates = feedSpec('fx_rates');

/** A valid record of `feed` with some columns replaced, as the field array of a CSV line. */
function fields(feed: FeedSpec, overrides: Record<string, string> = {}): string[] {
  const base = VALID[feed.name]!;
  for (const name of Object.keys(overrides)) {
    if (!(name in base)) throw new Error(`test fixture: ${feed.name} has no column ${name}`);
  }
  return feed.columns.map((c) => overrides[c.name] ?? base[c.name]!);
}

const VALID: Record<string, Record<string, string>> = {
  customers: {
    customer_id: 'C0001000001',
    full_name: 'Anna Müller',
    email: 'anna.mueller@example.com',
    date_of_birth: '1984-02-29',
    country: 'DE',
    segment: 'RETAIL',
    channel: 'MOBILE',
    onboarding_stage: 'ACTIVE',
    kyc_status: 'VERIFIED',
    onboarded_at: '2019-03-01T09:30:00Z',
  },
  accounts: {
    account_id: 'A0010000001',
    customer_id: 'C0001000001',
    iban: 'DE89370400440532013000',
    product: 'CURRENT',
    currency: 'EUR',
    status: 'OPEN',
    opened_on: '2019-03-02',
    opening_balance: '-250.75',
  },
  transactions: {
    txn_id: 'T2026112000000001',
    account_id: 'A0010000001',
    booked_at: '2026-11-20T23:59:59Z',
    value_date: '2026-11-21',
    direction: 'DEBIT',
    amount: '12.50',
    currency: 'EUR',
    channel: 'POS',
    merchant_category: '5411',
    description: 'REWE Markt Berlin',
  },
  payments: {
    payment_id: 'P2026112000000001',
    debtor_account_id: 'A0010000001',
    creditor_iban: 'NL91ABNA0417164300',
    creditor_name: 'Stadtwerke Nordhafen GmbH',
    rail: 'SEPA_SCT',
    status: 'SETTLED',
    amount: '1500.00',
    currency: 'EUR',
    initiated_at: '2026-11-20T08:00:00Z',
    settled_at: '2026-11-20T09:00:00Z',
  },
  fx_rates: { currency: 'USD', rate_date: BUSINESS_DATE, rate: '0.92000000', source: 'ECB' },
};

function reasonOf(feed: FeedSpec, overrides: Record<string, string>): string | null {
  const result = validateRecord(feed, fields(feed, overrides), BUSINESS_DATE);
  return result.ok ? null : result.reason;
}

describe('rowSchema', () => {
  it.each(FEEDS.map((f) => [f.name, f] as const))('exists for %s with exactly the catalog columns', (_name, feed) => {
    expect(Object.keys(rowSchema(feed).shape)).toEqual(feed.columns.map((c) => c.name));
  });

  it('is built once per feed', () => {
    expect(rowSchema(transactions)).toBe(rowSchema(transactions));
    expect(rowSchema(transactions)).not.toBe(rowSchema(customers));
  });

  it('gives null for an empty nullable value and keeps strings otherwise', () => {
    const record = Object.fromEntries(transactions.columns.map((c, i) => [c.name, fields(transactions)[i]!]));
    const parsed = rowSchema(transactions).parse({ ...record, merchant_category: '', description: '' });
    expect(parsed.merchant_category).toBeNull();
    expect(parsed.description).toBeNull();
    expect(parsed.amount).toBe('12.50');
  });

  it('names the column in the issue message, carries the reason, and does not echo the value', () => {
    const record = Object.fromEntries(customers.columns.map((c, i) => [c.name, fields(customers)[i]!]));
    const result = rowSchema(customers).safeParse({ ...record, date_of_birth: 'Anna-secret' });
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path).toEqual(['date_of_birth']);
    expect(issue.message).toMatch(/^date_of_birth: /);
    expect(issue.message).not.toContain('Anna-secret');
    expect(issue.code === 'custom' && issue.params?.reason).toBe('INVALID_FORMAT');
  });

  it('treats a column absent from the record as missing', () => {
    const result = rowSchema(fxRates).safeParse({ currency: 'USD', rate_date: BUSINESS_DATE, source: 'ECB' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toMatch(/^rate: /);
  });
});

describe('validateRecord', () => {
  it.each(FEEDS.map((f) => [f.name, f] as const))('accepts a valid %s record', (_name, feed) => {
    expect(validateRecord(feed, fields(feed), BUSINESS_DATE)).toEqual({ ok: true, row: expect.any(Object) });
  });

  describe('MALFORMED_RECORD:field_count', () => {
    it('rejects one field too few or too many before any column rule', () => {
      const good = fields(transactions, { currency: 'XXZ' });
      expect(validateRecord(transactions, good.slice(0, -1), BUSINESS_DATE)).toEqual({ ok: false, reason: 'MALFORMED_RECORD:field_count' });
      expect(validateRecord(transactions, [...good, 'x'], BUSINESS_DATE)).toEqual({ ok: false, reason: 'MALFORMED_RECORD:field_count' });
    });
  });

  describe('MISSING_VALUE', () => {
    it('rejects an empty value of a required column', () => {
      expect(reasonOf(transactions, { account_id: '' })).toBe('MISSING_VALUE:account_id');
      expect(reasonOf(transactions, { currency: '' })).toBe('MISSING_VALUE:currency');
    });
    it('accepts an empty nullable value', () => {
      expect(reasonOf(transactions, { description: '', merchant_category: '' })).toBeNull();
      expect(reasonOf(customers, { email: '' })).toBeNull();
    });
    it('does not treat whitespace as missing', () => {
      expect(reasonOf(transactions, { direction: ' ' })).toBe('INVALID_FORMAT:direction');
    });
  });

  describe('INVALID_FORMAT', () => {
    it('checks patterns', () => {
      expect(reasonOf(transactions, { txn_id: 't2026112000000001' })).toBe('INVALID_FORMAT:txn_id');
      expect(reasonOf(transactions, { account_id: 'A1234567' })).toBe('INVALID_FORMAT:account_id');
      expect(reasonOf(transactions, { merchant_category: '541' })).toBe('INVALID_FORMAT:merchant_category');
      expect(reasonOf(customers, { country: 'de' })).toBe('INVALID_FORMAT:country');
    });

    it('checks maxLength in characters, not UTF-16 units', () => {
      expect(reasonOf(customers, { full_name: 'x'.repeat(120) })).toBeNull();
      expect(reasonOf(customers, { full_name: 'x'.repeat(121) })).toBe('INVALID_FORMAT:full_name');
      // 100 emoji are 200 UTF-16 code units but 100 characters.
      expect(reasonOf(customers, { full_name: '🙂'.repeat(100) })).toBeNull();
      expect(reasonOf(customers, { full_name: 'é'.repeat(121) })).toBe('INVALID_FORMAT:full_name');
    });

    it('checks enums exactly (case and spaces matter)', () => {
      expect(reasonOf(transactions, { direction: 'debit' })).toBe('INVALID_FORMAT:direction');
      expect(reasonOf(transactions, { direction: 'CREDIT ' })).toBe('INVALID_FORMAT:direction');
      expect(reasonOf(transactions, { direction: 'CREDIT' })).toBeNull();
    });

    it.each([
      ['2024-02-29', null],
      ['2026-02-29', 'INVALID_FORMAT:value_date'],
      ['2026-02-30', 'INVALID_FORMAT:value_date'],
      ['2026-04-31', 'INVALID_FORMAT:value_date'],
      ['2026-13-01', 'INVALID_FORMAT:value_date'],
      ['2026-00-10', 'INVALID_FORMAT:value_date'],
      ['2026-1-01', 'INVALID_FORMAT:value_date'],
      ['20260101', 'INVALID_FORMAT:value_date'],
      ['yesterday', 'INVALID_FORMAT:value_date'],
      ['2026-01-01T00:00:00Z', 'INVALID_FORMAT:value_date'],
      ['2000-02-29', null],
      ['1900-02-29', 'INVALID_FORMAT:value_date'],
    ])('date %s → %p', (value, reason) => {
      expect(reasonOf(transactions, { value_date: value })).toBe(reason);
    });

    it.each([
      ['2026-11-20T23:59:59Z', null],
      ['2026-11-20T00:00:00Z', null],
      ['2026-11-20T24:00:00Z', 'INVALID_FORMAT:initiated_at'],
      ['2026-11-20T12:60:00Z', 'INVALID_FORMAT:initiated_at'],
      ['2026-11-20T12:00:60Z', 'INVALID_FORMAT:initiated_at'],
      ['2026-11-20 12:00:00Z', 'INVALID_FORMAT:initiated_at'],
      ['2026-11-20T12:00:00', 'INVALID_FORMAT:initiated_at'],
      ['2026-11-20T12:00:00.000Z', 'INVALID_FORMAT:initiated_at'],
      ['2026-11-20T12:00:00+01:00', 'INVALID_FORMAT:initiated_at'],
      ['2026-02-30T12:00:00Z', 'INVALID_FORMAT:initiated_at'],
    ])('timestamp %s → %p', (value, reason) => {
      expect(reasonOf(feedSpec('payments'), { initiated_at: value })).toBe(reason);
    });

    // The same cases as the Spark job's own validation tests.
    it.each([
      ['0', null],
      ['0.00', null],
      ['12.5', null],
      ['12.345', 'INVALID_FORMAT:amount'],
      ['1234567890123456.78', null],
      ['12345678901234567.00', 'INVALID_FORMAT:amount'],
      ['-0.01', 'OUT_OF_RANGE:amount'],
      ['-0.00', null],
      ['1e3', 'INVALID_FORMAT:amount'],
      ['+1.00', 'INVALID_FORMAT:amount'],
      ['.50', 'INVALID_FORMAT:amount'],
      ['1.', 'INVALID_FORMAT:amount'],
      [' 1.00', 'INVALID_FORMAT:amount'],
      ['1,00', 'INVALID_FORMAT:amount'],
    ])('decimal(18,2) min 0: %s → %p', (value, reason) => {
      expect(reasonOf(transactions, { amount: value })).toBe(reason);
    });

    it('accepts negative values where the column has no minimum', () => {
      expect(reasonOf(feedSpec('accounts'), { opening_balance: '-20.00' })).toBeNull();
      expect(reasonOf(feedSpec('accounts'), { opening_balance: '-0.5' })).toBeNull();
    });

    it('checks the scale of rates', () => {
      expect(reasonOf(fxRates, { rate: '0.92000000' })).toBeNull();
      expect(reasonOf(fxRates, { rate: '0.006123456' })).toBe('INVALID_FORMAT:rate');
      expect(reasonOf(fxRates, { rate: '1' })).toBeNull();
      expect(reasonOf(fxRates, { rate: '0' })).toBe('OUT_OF_RANGE:rate'); // the minimum 0 is exclusive for rates
    });
  });

  describe('UNKNOWN_CURRENCY', () => {
    it.each(['XXZ', 'eur', 'XXX', 'EURO'])('rejects %s', (value) => {
      expect(reasonOf(transactions, { currency: value })).toBe('UNKNOWN_CURRENCY:currency');
    });
    it('checks the fx feed currency too', () => {
      expect(reasonOf(fxRates, { currency: 'RUR' })).toBe('UNKNOWN_CURRENCY:currency');
    });
  });

  describe('OUT_OF_RANGE', () => {
    it('rejects an amount below the minimum', () => {
      expect(reasonOf(feedSpec('payments'), { amount: '-1500.00' })).toBe('OUT_OF_RANGE:amount');
      expect(reasonOf(fxRates, { rate: '-0.00000001' })).toBe('OUT_OF_RANGE:rate');
    });
  });

  describe('WRONG_BUSINESS_DATE', () => {
    it('rejects a transaction booked on another day (UTC)', () => {
      expect(reasonOf(transactions, { booked_at: '2026-11-19T23:59:59Z' })).toBe('WRONG_BUSINESS_DATE:booked_at');
      expect(reasonOf(transactions, { booked_at: '2026-11-21T00:00:00Z' })).toBe('WRONG_BUSINESS_DATE:booked_at');
      expect(reasonOf(transactions, { booked_at: '2026-11-20T00:00:00Z' })).toBeNull();
    });
    it('rejects an fx rate of another date', () => {
      expect(reasonOf(fxRates, { rate_date: '2026-11-19' })).toBe('WRONG_BUSINESS_DATE:rate_date');
    });
    it('does not apply to other date columns', () => {
      expect(reasonOf(transactions, { value_date: '2026-11-23' })).toBeNull();
      expect(reasonOf(feedSpec('payments'), { initiated_at: '2026-11-19T22:00:00Z' })).toBeNull();
    });
  });

  describe('first failure wins', () => {
    it('takes the first failing column in catalog order', () => {
      expect(reasonOf(transactions, { amount: 'abc', account_id: '', currency: 'XXZ' })).toBe('MISSING_VALUE:account_id');
      expect(reasonOf(transactions, { description: 'x'.repeat(141), currency: 'XXZ' })).toBe('UNKNOWN_CURRENCY:currency');
    });

    it('takes the first failing rule within a column', () => {
      expect(reasonOf(transactions, { amount: '' })).toBe('MISSING_VALUE:amount');
      expect(reasonOf(transactions, { amount: '-1.001' })).toBe('INVALID_FORMAT:amount');
    });

    it('checks the business date only after every column rule, although booked_at comes first', () => {
      expect(reasonOf(transactions, { booked_at: '2026-11-19T10:00:00Z', currency: 'XXZ' })).toBe('UNKNOWN_CURRENCY:currency');
      expect(reasonOf(transactions, { booked_at: '2026-11-19T10:00:00Z', description: 'x'.repeat(141) })).toBe(
        'INVALID_FORMAT:description',
      );
      expect(reasonOf(fxRates, { rate_date: '2026-11-19', rate: '-1' })).toBe('OUT_OF_RANGE:rate');
    });
  });
});

describe('validateLine', () => {
  const line = (overrides: Record<string, string> = {}) => fields(transactions, overrides).join(',');

  it('accepts a plain line and a CRLF line', () => {
    expect(validateLine(transactions, line(), BUSINESS_DATE).ok).toBe(true);
    expect(validateLine(transactions, `${line()}\r`, BUSINESS_DATE).ok).toBe(true);
  });

  it('reads quoted fields with commas and escaped quotes', () => {
    const result = validateLine(transactions, line({ description: '"Bar ""Anker"", Hamburg"' }), BUSINESS_DATE);
    expect(result).toEqual({ ok: true, row: expect.objectContaining({ description: 'Bar "Anker", Hamburg' }) });
  });

  it('rejects an odd number of quotes before anything else', () => {
    expect(validateLine(transactions, line({ description: 'Bar "Anker', currency: 'XXZ' }), BUSINESS_DATE)).toEqual({
      ok: false,
      reason: 'MALFORMED_RECORD:quoting',
    });
  });

  it('rejects an unquoted comma in a text field as a wrong field count', () => {
    expect(validateLine(transactions, line({ description: 'Rossmann, Hamburg' }), BUSINESS_DATE)).toEqual({
      ok: false,
      reason: 'MALFORMED_RECORD:field_count',
    });
  });

  it('validates the fields it split', () => {
    expect(validateLine(transactions, line({ currency: 'XXZ' }), BUSINESS_DATE)).toEqual({ ok: false, reason: 'UNKNOWN_CURRENCY:currency' });
  });
});

describe('splitQuotedLine', () => {
  // The same lines and field counts as the Spark job's tests (commas outside "…" pairs, plus one).
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['"a,b",c', ['a,b', 'c']],
    ['"a""b",c,d', ['a"b', 'c', 'd']],
    ['a,,', ['a', '', '']],
    ['', ['']],
    ['"x"",y",z', ['x",y', 'z']],
    ['"",x', ['', 'x']],
    ['a"b,c"d,e', ['ab,cd', 'e']],
  ])('%p', (text, expected) => {
    expect(splitQuotedLine(text)).toEqual(expected);
  });
});
