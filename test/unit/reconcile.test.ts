import { feedManifestEntry, reconcileFeeds } from '../../src/domain/reconcile';
import type { FeedIngested, FeedNormalized } from '../../src/domain/pipeline';

const ingested = (feed: FeedIngested['feed'], count: number): FeedIngested => ({
  feed, status: 'INGESTED', rawUri: `file:///raw/${feed}`, rowsIn: count, controlCount: count, controlSum: '0', sha256: 'x', bytes: 1, attempt: 1,
});
const normalized = (feed: FeedNormalized['feed'], rowsIn: number, accepted: number, rejected: number): FeedNormalized => ({
  feed, rowsIn, rowsAccepted: accepted, rowsRejected: rejected, rejectReasons: {}, curatedUri: '', rejectsUri: '',
});

test('balanced books have no problems', () => {
  expect(reconcileFeeds([ingested('accounts', 10)], [normalized('accounts', 10, 7, 3)])).toEqual([]);
});

test('a row lost between ingest and normalize is reported with both numbers', () => {
  expect(reconcileFeeds([ingested('accounts', 10)], [normalized('accounts', 9, 9, 0)])).toEqual([
    'accounts: normalize read 9 rows, control count is 10',
  ]);
});

test('rows neither accepted nor rejected are reported', () => {
  expect(reconcileFeeds([ingested('payments', 10)], [normalized('payments', 10, 5, 4)])).toEqual([
    'payments: accepted 5 + rejected 4 != rows in 10',
  ]);
});

test('a feed missing on either side is reported; an optional feed that never arrived is not', () => {
  const missing: FeedIngested = { ...ingested('fx_rates', 0), status: 'MISSING_OPTIONAL', rawUri: null };
  expect(reconcileFeeds([ingested('accounts', 1), missing], [normalized('customers', 1, 1, 0)])).toEqual([
    'accounts: ingested but missing from the normalize result',
    'customers: normalized but never ingested',
  ]);
});

describe('money quarantined, reconciled', () => {
  const feed = (controlSum: string): FeedIngested => ({ ...ingested('transactions', 3), controlSum });
  const amounts = (accepted: string, rejected: string): FeedNormalized => ({ ...normalized('transactions', 3, 2, 1), amountAccepted: accepted, amountRejected: rejected });

  test('accepted + rejected equal to the trailer balances, whatever the decimals written', () => {
    expect(reconcileFeeds([feed('1234.50')], [amounts('1234.55', '-0.05')])).toEqual([]);
    expect(reconcileFeeds([feed('1234.5')], [amounts('1234.00', '0.50')])).toEqual([]);
    expect(reconcileFeeds([feed('0')], [amounts('0', '0')])).toEqual([]);
  });

  test('a cent missing is named with the feed and the three sums', () => {
    expect(reconcileFeeds([feed('1234.50')], [amounts('1234.00', '0.49')])).toEqual([
      "transactions: amount accepted 1234.00 + amount rejected 0.49 = 1234.49, but the trailer's control sum is 1234.50 (unaccounted 0.01)",
    ]);
  });

  test('exact beyond floating point: 0.1 + 0.2 is 0.3, and 17 digits do not round', () => {
    expect(reconcileFeeds([feed('0.30')], [amounts('0.10', '0.20')])).toEqual([]);
    expect(reconcileFeeds([feed('12345678901234567.01')], [amounts('12345678901234567.00', '0.01')])).toEqual([]);
    expect(reconcileFeeds([feed('12345678901234567.01')], [amounts('12345678901234567.00', '0.00')])).toHaveLength(1);
  });

  test('a result recorded before the amounts existed is not checked for them', () => {
    expect(reconcileFeeds([feed('1234.50')], [normalized('transactions', 3, 2, 1)])).toEqual([]);
  });
});

test('the manifest entry carries the amounts, or null before normalize', () => {
  const ing = { ...ingested('payments', 3), controlSum: '10.00' };
  expect(feedManifestEntry(ing, undefined)).toMatchObject({ controlSum: '10.00', amountAccepted: null, amountRejected: null });
  expect(feedManifestEntry(ing, { ...normalized('payments', 3, 2, 1), amountAccepted: '9.00', amountRejected: '1.00' })).toMatchObject({
    amountAccepted: '9.00',
    amountRejected: '1.00',
  });
});
