import type { FeedAmounts, FeedIngested, FeedManifestEntry, FeedNormalized } from './pipeline';
import { formatScaledDecimal, parseScaledDecimal } from './feeds/trailer';

/**
 * Nothing lost, nothing invented: for every ingested feed, the rows Spark saw must equal the
 * verified control count, every row must be either accepted or rejected, and the money balances:
 * the control column summed over the accepted rows plus over the rejects equals the trailer's
 * control sum, exactly (scaled integers, never floating point).
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
    const money = moneyProblem(feed, n);
    if (money !== null) problems.push(money);
  }
  for (const n of normalized) {
    if (!ingested.some((f) => f.feed === n.feed && f.status === 'INGESTED')) {
      problems.push(`${n.feed}: normalized but never ingested`);
    }
  }
  return problems;
}

function decimals(text: string): number {
  const dot = text.indexOf('.');
  return dot === -1 ? 0 : text.length - dot - 1;
}

/** Accepted + rejected amounts against the trailer's control sum, or null when they balance. */
function moneyProblem(feed: FeedIngested, n: FeedNormalized): string | null {
  // A normalize result recorded before the amounts existed has nothing to check.
  if (n.amountAccepted === undefined || n.amountRejected === undefined) return null;
  const scale = Math.max(decimals(n.amountAccepted), decimals(n.amountRejected), decimals(feed.controlSum));
  const accepted = parseScaledDecimal(n.amountAccepted, scale);
  const rejected = parseScaledDecimal(n.amountRejected, scale);
  const trailer = parseScaledDecimal(feed.controlSum, scale);
  if (accepted === null || rejected === null || trailer === null) {
    return `${feed.feed}: amounts are not decimals (accepted '${n.amountAccepted}', rejected '${n.amountRejected}', control sum '${feed.controlSum}')`;
  }
  if (accepted + rejected === trailer) return null;
  const total = formatScaledDecimal(accepted + rejected, scale);
  const gap = formatScaledDecimal(trailer - accepted - rejected, scale);
  return `${feed.feed}: amount accepted ${n.amountAccepted} + amount rejected ${n.amountRejected} = ${total}, but the trailer's control sum is ${feed.controlSum} (unaccounted ${gap})`;
}

/** One feed's line of the run manifest: what ingest verified and, once it ran, what normalize made of it. */
export function feedManifestEntry(ingested: FeedIngested, normalized: FeedNormalized | undefined): FeedManifestEntry & FeedAmounts {
  return {
    feed: ingested.feed,
    status: ingested.status,
    rowsIn: ingested.rowsIn,
    rowsAccepted: normalized?.rowsAccepted ?? 0,
    rowsRejected: normalized?.rowsRejected ?? 0,
    rejectReasons: normalized?.rejectReasons ?? {},
    controlCount: ingested.controlCount,
    controlSum: ingested.controlSum,
    amountAccepted: normalized?.amountAccepted ?? null,
    amountRejected: normalized?.amountRejected ?? null,
    sha256: ingested.sha256,
    rawUri: ingested.rawUri,
    rejectsUri: normalized?.rejectsUri ?? null,
  };
}
