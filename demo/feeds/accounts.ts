import { cents, dateOf, inMinorUnits, pad } from './format';
import { Random } from './random';
import { type FeedRenderer, columnsOf } from './renderer';
import { iban } from './vocabulary';
import { ACCOUNT_STATUSES, PRODUCTS, type World, accountId, customerId } from './world';

export function accountsFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('accounts', [
    'account_id', 'customer_id', 'iban', 'product', 'currency', 'status', 'opened_on', 'opening_balance',
  ]);
  const random = new Random(world.seed, 'accounts');
  const { account } = world;
  return {
    spec,
    rows: world.sizes.accounts,
    id: accountId,
    isProtected: (a) => account.protected.has(a),
    targets: { id: col.account_id, currency: col.currency, date: col.opened_on },
    render(a, f) {
      const product = account.product[a]!;
      const status = account.status[a]!;
      const rate = world.rates[account.currency[a]!]!;
      let eurCents: number;
      if (status === 2 || account.openedDay[a] === world.businessDay) eurCents = 0;
      else if (product === 0) eurCents = random.chance(0.08) ? -random.int(300_000) : Math.round(random.skewed(250_000, 1.1));
      else if (product === 1) eurCents = Math.round(random.skewed(1_200_000, 1.3));
      else if (product === 2) eurCents = random.chance(0.3) ? 0 : -random.int(500_000);
      else eurCents = -Math.round(random.skewed(4_000_000, 1));
      const balance = inMinorUnits(Math.round((eurCents * 100_000_000) / rate), world.currencies[account.currency[a]!]!);
      f[col.account_id] = accountId(a);
      f[col.customer_id] = customerId(account.owner[a]!);
      f[col.iban] = iban('DE', `50099877${pad((a * 7919 + 1_000_003) % 10_000_000_000, 10)}`);
      f[col.product] = PRODUCTS[product]!;
      f[col.currency] = world.currencies[account.currency[a]!]!;
      f[col.status] = ACCOUNT_STATUSES[status]!;
      f[col.opened_on] = dateOf(account.openedDay[a]!);
      f[col.opening_balance] = cents(balance);
      return balance;
    },
  };
}
