import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import { BusinessDate } from '../../src/domain/business-date';
import { FEED_NAMES, type FeedName } from '../../src/domain/feeds/catalog';
import { accountsFeed } from './accounts';
import { customersFeed } from './customers';
import { DEFECT_KINDS } from './defects';
import { fxRatesFeed } from './fx-rates';
import { paymentsFeed } from './payments';
import type { FeedRenderer } from './renderer';
import { transactionsFeed } from './transactions';
import { planWorld } from './world';
import { writeFeed, type GeneratedFeed } from './write-feed';

export { DEFECT_KINDS, type DefectKind } from './defects';
export type { GeneratedFeed } from './write-feed';

/**
 * A deterministic generator of one business date's extracts, for demos, tests and benchmarks.
 * The same options give byte-identical files. The data is fake but shaped like a retail bank's:
 * a customer base with an onboarding funnel, accounts owned by onboarded customers, card/ATM/
 * branch/online transactions on those accounts (with a few large values and structuring
 * patterns planted so that risk alerts appear), outgoing payments, and the day's fx rates.
 *
 * Defects are injected per data line at `defectRate`, each kind rejected by the normalize job
 * with its own reason. fx_rates never gets defects: one bad rate would reject every row in that
 * currency (NO_FX_RATE) and drown the injected defects of the other feeds.
 */

export const GenerateFeedsOptions = z.object({
  landingDir: z.string().min(1),
  businessDate: BusinessDate,
  seed: z.number().int(),
  transactions: z.number().int().min(0).max(99_999_999),
  customers: z.number().int().min(1).max(999_999_999).optional(),
  accounts: z.number().int().min(1).max(999_999_999).optional(),
  payments: z.number().int().min(0).max(99_999_999).optional(),
  defectRate: z.number().min(0).max(1),
  defectKinds: z.array(z.enum(DEFECT_KINDS)).optional(),
});
export type GenerateFeedsOptions = z.input<typeof GenerateFeedsOptions>;

export interface GenerateFeedsResult {
  readonly feeds: GeneratedFeed[];
}

export async function generateFeeds(options: GenerateFeedsOptions): Promise<GenerateFeedsResult> {
  const parsed = GenerateFeedsOptions.safeParse(options);
  if (!parsed.success) throw new Error(`invalid generator options: ${z.prettifyError(parsed.error)}`);
  const opts = parsed.data;
  const customers = opts.customers ?? Math.max(50, Math.round(opts.transactions / 20));
  const sizes = {
    customers,
    accounts: opts.accounts ?? Math.round(customers * 1.5),
    transactions: opts.transactions,
    payments: opts.payments ?? Math.round(opts.transactions / 5),
  };
  const kinds = opts.defectKinds ?? DEFECT_KINDS;
  const world = planWorld(opts.businessDate, opts.seed, sizes);

  await mkdir(opts.landingDir, { recursive: true });
  const renderers: Record<FeedName, FeedRenderer> = {
    customers: customersFeed(world),
    accounts: accountsFeed(world),
    transactions: transactionsFeed(world),
    payments: paymentsFeed(world),
    fx_rates: fxRatesFeed(world),
  };
  const feeds: GeneratedFeed[] = [];
  for (const name of FEED_NAMES) {
    const defects = name === 'fx_rates' ? { rate: 0, kinds: [] } : { rate: opts.defectRate, kinds };
    feeds.push(await writeFeed(opts.landingDir, renderers[name], defects, opts.seed));
  }
  return { feeds };
}
