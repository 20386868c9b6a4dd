import { addDays } from '../../src/domain/business-date';
import { cents, csvText, inMinorUnits, pad, timeOf } from './format';
import { Random, Weighted } from './random';
import { type FeedRenderer, columnsOf } from './renderer';
import { CITIES, MERCHANTS, ONLINE_MERCHANTS, daySecond } from './vocabulary';
import type { World } from './world';

export function transactionsFeed(world: World): FeedRenderer {
  const { spec, col } = columnsOf('transactions', [
    'txn_id', 'account_id', 'booked_at', 'value_date', 'direction', 'amount', 'currency', 'channel',
    'merchant_category', 'description',
  ]);
  const random = new Random(world.seed, 'transactions');
  const channels = new Weighted<'POS' | 'ONLINE' | 'ATM' | 'BRANCH'>([['POS', 55], ['ONLINE', 22], ['ATM', 15], ['BRANCH', 8]]);
  const stamps = Array.from({ length: 86_400 }, (_, s) => `${world.businessDate}T${timeOf(s)}Z`);
  const valueDates = [world.businessDate, addDays(world.businessDate, 1), addDays(world.businessDate, 2)];
  const eur = world.currencies.indexOf('EUR');
  const busy = Math.max(1, Math.floor(world.transacting.length / 20));
  const id = (i: number) => `T${world.compactDate}${pad(i + 1, 8)}`;
  return {
    spec,
    rows: world.sizes.transactions,
    id,
    isProtected: (i) => world.specials.has(i),
    targets: { id: col.txn_id, currency: col.currency, date: col.value_date, text: col.description },
    render(i, f) {
      f[col.txn_id] = id(i);
      const special = world.specials.get(i);
      if (special) {
        f[col.account_id] = world.accountIds[special.account]!;
        f[col.booked_at] = stamps[special.second]!;
        f[col.value_date] = world.businessDate;
        f[col.direction] = special.direction;
        f[col.amount] = cents(special.amountCents);
        f[col.currency] = 'EUR';
        f[col.channel] = special.channel;
        f[col.merchant_category] = special.channel === 'ATM' ? '6011' : '';
        f[col.description] = special.description;
        return special.amountCents;
      }
      // A twentieth of the accounts carries a third of the activity.
      const account = random.chance(0.33) ? world.transacting[random.int(busy)]! : world.transacting[random.int(world.transacting.length)]!;
      const channel = channels.pick(random);
      let direction: 'DEBIT' | 'CREDIT' = 'DEBIT';
      let eurCents: number;
      let mcc = '';
      let description: string;
      let second = daySecond(random);
      switch (channel) {
        case 'POS': {
          const [code, merchant] = random.pick(MERCHANTS);
          mcc = code;
          direction = random.chance(0.03) ? 'CREDIT' : 'DEBIT';
          eurCents = Math.round(random.skewed(2_500, 1));
          const city = random.pick(CITIES);
          description = random.chance(0.03) ? csvText(`${merchant}, ${city}`) : `${merchant} ${city}`;
          break;
        }
        case 'ONLINE': {
          if (random.chance(0.35)) {
            direction = 'CREDIT';
            description = random.pick(['Salary', 'Transfer from savings', 'Refund', 'Rent share']);
            eurCents = Math.round(random.skewed(60_000, 1));
          } else {
            const [code, merchant] = random.pick(ONLINE_MERCHANTS);
            mcc = code;
            description = merchant;
            eurCents = Math.round(random.skewed(4_500, 1.1));
          }
          break;
        }
        case 'ATM': {
          mcc = '6011';
          if (random.chance(0.1)) {
            direction = 'CREDIT';
            description = 'ATM cash deposit';
            eurCents = random.between(5, 300) * 1000;
          } else {
            description = 'ATM withdrawal';
            eurCents = random.between(1, 25) * 2000;
          }
          break;
        }
        case 'BRANCH': {
          direction = random.chance(0.6) ? 'CREDIT' : 'DEBIT';
          description = direction === 'CREDIT' ? random.pick(['Cash deposit', 'Cheque deposit']) : 'Cash withdrawal';
          eurCents = Math.round(random.skewed(40_000, 0.9));
          second = random.between(9 * 3600, 17 * 3600 - 1);
          break;
        }
      }
      // Ordinary activity stays below the alert bands; alerts come from the planted patterns.
      eurCents = Math.min(Math.max(eurCents, 100), 799_999);
      const accountCurrency = world.account.currency[account]!;
      const currency = channel === 'POS' && random.chance(0.05) ? random.int(world.currencies.length) : accountCurrency;
      const amount =
        currency === eur ? eurCents : inMinorUnits(Math.max(1, Math.round((eurCents * 100_000_000) / world.rates[currency]!)), world.currencies[currency]!);
      f[col.account_id] = world.accountIds[account]!;
      f[col.booked_at] = stamps[second]!;
      const v = random.next();
      f[col.value_date] = valueDates[v < 0.9 ? 0 : v < 0.98 ? 1 : 2]!;
      f[col.direction] = direction;
      f[col.amount] = cents(amount);
      f[col.currency] = world.currencies[currency]!;
      f[col.channel] = channel;
      f[col.merchant_category] = mcc;
      f[col.description] = random.chance(0.05) ? '' : description;
      return amount;
    },
  };
}
