import { addDays } from '../../src/domain/business-date';
import { cents, csvText, inMinorUnits, pad, timeOf } from './format';
import { Random, Weighted } from './random';
import { type FeedRenderer, columnsOf } from './renderer';
import { COMPANY_FORMS, COMPANY_TRADES, LAST_NAMES, UTILITIES, daySecond, personName, randomIban } from './vocabulary';
import type { World } from './world';

export function paymentsFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('payments', [
    'payment_id', 'debtor_account_id', 'creditor_iban', 'creditor_name', 'rail', 'status', 'amount', 'currency',
    'initiated_at', 'settled_at',
  ]);
  const random = new Random(world.seed, 'payments');
  const rails = new Weighted<string>([['SEPA_SCT', 55], ['SEPA_INST', 24], ['INTERNAL', 10], ['SWIFT', 8], ['TARGET2', 3]]);
  const statuses = new Weighted<string>([['SETTLED', 85], ['PENDING', 10], ['REJECTED', 3], ['RETURNED', 2]]);
  const swiftCurrencies = ['USD', 'GBP', 'CHF', 'JPY', 'CAD', 'AUD', 'SGD', 'SEK', 'NOK'].filter((c) => world.currencies.includes(c));
  const nextDay = addDays(world.businessDate, 1);
  const id = (i: number) => `P${world.compactDate}${pad(i + 1, 8)}`;
  const stamp = (second: number) =>
    second < 86_400 ? `${world.businessDate}T${timeOf(second)}Z` : `${nextDay}T${timeOf(Math.min(second - 86_400, 86_399))}Z`;
  return {
    spec,
    rows: world.sizes.payments,
    id,
    isProtected: () => false,
    targets: { id: col.payment_id, currency: col.currency, timestamp: col.initiated_at, text: col.creditor_name },
    render(i, f) {
      const rail = rails.pick(random);
      const status = statuses.pick(random);
      let currency = 'EUR';
      let eurCents: number;
      let settleDelay: number;
      switch (rail) {
        case 'SEPA_INST':
          eurCents = Math.min(Math.round(random.skewed(8_000, 1)), 999_999);
          settleDelay = random.between(1, 10);
          break;
        case 'INTERNAL':
          eurCents = Math.min(Math.round(random.skewed(50_000, 1.2)), 799_999);
          settleDelay = random.int(5);
          break;
        case 'SWIFT':
          currency = swiftCurrencies.length > 0 ? random.pick(swiftCurrencies) : 'EUR';
          eurCents = Math.round(random.skewed(1_500_000, 1.2));
          settleDelay = random.between(3600, 36_000);
          break;
        case 'TARGET2':
          eurCents = random.between(50_000, 5_000_000) * 100;
          settleDelay = random.between(5, 600);
          break;
        default:
          eurCents = Math.min(Math.round(random.skewed(25_000, 1.1)), 799_999);
          settleDelay = random.between(600, 7200);
      }
      const currencyIndex = world.currencies.indexOf(currency);
      const amount =
        currency === 'EUR' ? Math.max(eurCents, 1) : inMinorUnits(Math.max(1, Math.round((eurCents * 100_000_000) / world.rates[currencyIndex]!)), currency);
      const initiated = daySecond(random);
      let creditor: string;
      const kind = random.next();
      if (kind < 0.55) creditor = personName(random);
      else if (kind < 0.75) creditor = `${random.pick(UTILITIES)} ${random.pick(COMPANY_FORMS)}`;
      else if (kind < 0.97) creditor = `${random.pick(LAST_NAMES)} ${random.pick(COMPANY_TRADES)} ${random.pick(COMPANY_FORMS)}`;
      else creditor = `${random.pick(LAST_NAMES)}, ${random.pick(LAST_NAMES)} & Partner`;
      f[col.payment_id] = id(i);
      f[col.debtor_account_id] = world.accountIds[world.paying[random.int(world.paying.length)]!]!;
      f[col.creditor_iban] = randomIban(random);
      f[col.creditor_name] = csvText(creditor);
      f[col.rail] = rail;
      f[col.status] = status;
      f[col.amount] = cents(amount);
      f[col.currency] = currency;
      f[col.initiated_at] = stamp(initiated);
      f[col.settled_at] = status === 'SETTLED' || status === 'RETURNED' ? stamp(initiated + settleDelay) : '';
      return amount;
    },
  };
}
