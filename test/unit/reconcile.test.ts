import { reconcileFeeds } from '../../src/domain/reconcile';
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
