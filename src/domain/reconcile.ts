import type { FeedIngested, FeedNormalized } from './pipeline';

/**
 * Nothing lost, nothing invented: for every ingested feed, the rows Spark saw must equal the
 * verified control count, and every row must be either accepted or rejected.
 * Returns one line per problem (empty when the books balance).
 */
export function reconcileFeeds(ingested: readonly FeedIngested[], normalized: readonly FeedNormalized[]): string[] {
  const problems: string[] = [];
  for (const feed of ingested) {
    if (feed.status !== 'INGESTED') continue;
    const n = normalized.find((x) => x.feed === feed.feed);
    if (!n) {
      problems.push(`${feed.feed}: ingested but missing from the normalize result`);
      continue;
    }
    if (n.rowsIn !== feed.controlCount) {
      problems.push(`${feed.feed}: normalize read ${n.rowsIn} rows, control count is ${feed.controlCount}`);
    }
    if (n.rowsAccepted + n.rowsRejected !== n.rowsIn) {
      problems.push(`${feed.feed}: accepted ${n.rowsAccepted} + rejected ${n.rowsRejected} != rows in ${n.rowsIn}`);
    }
  }
  for (const n of normalized) {
    if (!ingested.some((f) => f.feed === n.feed && f.status === 'INGESTED')) {
      problems.push(`${n.feed}: normalized but never ingested`);
    }
  }
  return problems;
}
