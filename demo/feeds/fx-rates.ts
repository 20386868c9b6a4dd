import { formatScaledDecimal } from '../../src/domain/feeds/trailer';
import { type FeedRenderer, columnsOf } from './renderer';
import type { World } from './world';

export function fxRatesFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('fx_rates', ['currency', 'rate_date', 'rate', 'source']);
  return {
    spec,
    rows: world.currencies.length,
    id: (i) => world.currencies[i]!,
    isProtected: () => true,
    targets: { id: col.currency },
    render(i, f) {
      const rate = world.rates[i]!;
      f[col.currency] = world.currencies[i]!;
      f[col.rate_date] = world.businessDate;
      f[col.rate] = formatScaledDecimal(BigInt(rate), 8);
      f[col.source] = world.currencies[i] === 'EUR' ? 'REPORTING_CURRENCY' : 'ECB';
      return rate;
    },
  };
}
