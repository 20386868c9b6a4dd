import { KNOWN_CURRENCIES } from '../../src/domain/feeds/catalog';
import { dayNumber, pad } from './format';
import { Random, Weighted } from './random';
import { ACTIVE, APPROVED, BASE_RATES, daySecond } from './vocabulary';

// The world: customers and accounts planned up front (compact typed arrays), so that the feeds
// that reference them can be rendered in any order and stay consistent.

export interface Sizes {
  customers: number;
  accounts: number;
  transactions: number;
  payments: number;
}

export interface Special {
  account: number;
  second: number;
  direction: 'DEBIT' | 'CREDIT';
  channel: 'ATM' | 'BRANCH' | 'ONLINE';
  amountCents: number;
  description: string;
}

export interface World {
  seed: number;
  businessDate: string;
  businessDay: number;
  compactDate: string;
  sizes: Sizes;
  /** Currency codes; index into it is what the typed arrays store. */
  currencies: readonly string[];
  /** The day's rate per currency index, scaled by 10^8. */
  rates: number[];
  customer: {
    stage: Uint8Array;
    channel: Uint8Array;
    onboardedDay: Int32Array;
    onboardedSecond: Int32Array;
    protected: Set<number>;
  };
  account: {
    owner: Int32Array;
    product: Uint8Array;
    status: Uint8Array;
    currency: Uint8Array;
    openedDay: Int32Array;
    protected: Set<number>;
  };
  /** Account ids by index, built once: transactions and payments reference them per line. */
  accountIds: readonly string[];
  /** Accounts that transact (open current and card accounts). */
  transacting: Int32Array;
  /** Accounts that pay (open current and savings accounts). */
  paying: Int32Array;
  /** Planted transactions by line index: structuring patterns and large values. */
  specials: Map<number, Special>;
}

export const CUSTOMER_CHANNELS = ['BRANCH', 'ONLINE', 'MOBILE'] as const;
export const PRODUCTS = ['CURRENT', 'SAVINGS', 'CARD', 'LOAN'] as const;
export const ACCOUNT_STATUSES = ['OPEN', 'DORMANT', 'CLOSED'] as const;

export function planWorld(businessDate: string, seed: number, sizes: Sizes): World {
  const random = new Random(seed, 'world');
  const businessDay = dayNumber(businessDate);
  const currencies = [...KNOWN_CURRENCIES];
  const rateRandom = new Random(seed, 'fx');
  const rates = currencies.map((code) => {
    const base = BASE_RATES[code];
    if (base === undefined) throw new Error(`generator has no reference rate for currency ${code}`);
    return code === 'EUR' ? base : base + Math.round(base * (rateRandom.next() - 0.5) * 0.02);
  });
  const eur = currencies.indexOf('EUR');

  // Customers: ids grow with time; the newest few percent were onboarded on the business date
  // and spread over the funnel, the rest are mostly active.
  const nC = sizes.customers;
  const nNew = Math.min(nC, Math.max(12, Math.round(nC * 0.04)));
  const nOld = nC - nNew;
  const historyDays = 12 * 365;
  const customer = {
    stage: new Uint8Array(nC),
    channel: new Uint8Array(nC),
    onboardedDay: new Int32Array(nC),
    onboardedSecond: new Int32Array(nC),
    protected: new Set<number>(),
  };
  const oldStages = new Weighted<number>([[0, 1.5], [1, 1.5], [2, 2], [3, 2], [4, 93]]);
  const newStages = new Weighted<number>([[0, 30], [1, 22], [2, 16], [3, 12], [4, 20]]);
  const oldChannels = new Weighted<number>([[0, 40], [1, 30], [2, 30]]);
  const newChannels = new Weighted<number>([[0, 15], [1, 35], [2, 50]]);
  for (let i = 0; i < nC; i++) {
    const fresh = i >= nOld;
    customer.stage[i] = (fresh ? newStages : oldStages).pick(random);
    customer.channel[i] = (fresh ? newChannels : oldChannels).pick(random);
    customer.onboardedDay[i] = fresh
      ? businessDay
      : Math.min(businessDay - 1, businessDay - 1 - Math.floor(((nOld - i) * historyDays) / nOld) + random.int(3));
    customer.onboardedSecond[i] = fresh ? daySecond(random) : random.between(7 * 3600, 19 * 3600);
  }

  let eligible: number[] = [];
  for (let i = 0; i < nC; i++) if (customer.stage[i]! >= APPROVED) eligible.push(i);
  if (eligible.length === 0) {
    customer.stage[0] = ACTIVE;
    eligible = [0];
  }

  // Accounts: the first account of every onboarded customer in customer order, then second
  // accounts (savings, cards, loans) for random customers.
  const nA = sizes.accounts;
  const account = {
    owner: new Int32Array(nA),
    product: new Uint8Array(nA),
    status: new Uint8Array(nA),
    currency: new Uint8Array(nA),
    openedDay: new Int32Array(nA),
    protected: new Set<number>(),
  };
  const firstProducts = new Weighted<number>([[0, 85], [1, 10], [3, 5]]);
  const moreProducts = new Weighted<number>([[0, 10], [1, 40], [2, 35], [3, 15]]);
  const statuses = new Weighted<number>([[0, 92], [1, 6], [2, 2]]);
  const foreign = new Weighted<number>(
    currencies.map((code, i) => [i, code === 'EUR' ? 0 : ['USD', 'GBP', 'CHF'].includes(code) ? 5 : 1] as const),
  );
  for (let a = 0; a < nA; a++) {
    const first = a < eligible.length;
    const owner = first ? eligible[a]! : eligible[random.int(eligible.length)]!;
    const since = customer.onboardedDay[owner]!;
    account.owner[a] = owner;
    account.product[a] = (first ? firstProducts : moreProducts).pick(random);
    account.currency[a] = random.chance(0.93) ? eur : foreign.pick(random);
    account.openedDay[a] = since >= businessDay ? businessDay : since + random.int(Math.max(1, businessDay - since));
    account.status[a] = account.openedDay[a] === businessDay ? 0 : statuses.pick(random);
  }

  // Planted patterns live on first accounts of long-standing customers, forced to be open EUR
  // current accounts and kept free of defects (a rejected account or customer would cascade
  // into UNKNOWN_REFERENCE and hide the pattern).
  const candidates: number[] = [];
  for (let a = 0; a < Math.min(nA, eligible.length); a++) if (account.owner[a]! < nOld) candidates.push(a);
  const structuringCount = Math.max(2, Math.round(sizes.transactions / 50_000));
  const largeCount = Math.max(3, Math.round(sizes.transactions * 0.0005));
  const chosen = sample(random, candidates, structuringCount + 1 + Math.min(largeCount, 25));
  for (const a of chosen) {
    account.product[a] = 0;
    account.status[a] = 0;
    account.currency[a] = eur;
    account.protected.add(a);
    customer.stage[account.owner[a]!] = ACTIVE;
    customer.protected.add(account.owner[a]!);
  }

  const planted: Special[] = [];
  chosen.forEach((a, k) => {
    if (k <= structuringCount) {
      // Structuring: several cash credits just under the threshold; the last account gets
      // only two (a near miss that must not raise an alert).
      const count = k === structuringCount ? 2 : random.between(3, 5);
      for (let j = 0; j < count; j++) {
        const channel = random.chance(0.5) ? 'ATM' : 'BRANCH';
        planted.push({
          account: a,
          second: random.between(8 * 3600, 20 * 3600),
          direction: 'CREDIT',
          channel,
          amountCents: (9000 + 10 * random.int(99)) * 100,
          description: channel === 'ATM' ? 'ATM cash deposit' : 'Cash deposit',
        });
      }
    }
  });
  const largeAccounts = chosen.slice(structuringCount + 1);
  for (let j = 0; j < largeCount && largeAccounts.length > 0; j++) {
    planted.push({
      account: largeAccounts[j % largeAccounts.length]!,
      second: random.between(9 * 3600, 17 * 3600),
      direction: random.chance(0.5) ? 'CREDIT' : 'DEBIT',
      channel: random.chance(0.5) ? 'BRANCH' : 'ONLINE',
      amountCents: random.between(10_000, 250_000) * 100 + (random.chance(0.3) ? random.int(100) : 0),
      description: random.pick(['Property deposit', 'Car purchase', 'Inheritance transfer', 'Business sale proceeds']),
    });
  }
  const specials = new Map<number, Special>();
  const room = Math.floor(sizes.transactions / 2);
  for (const special of planted.slice(0, room)) {
    let line = random.int(sizes.transactions);
    while (specials.has(line)) line = (line + 1) % sizes.transactions;
    specials.set(line, special);
  }

  const transacting: number[] = [];
  const paying: number[] = [];
  for (let a = 0; a < nA; a++) {
    if (account.status[a] !== 0) continue;
    const product = account.product[a];
    if (product === 0 || product === 2) transacting.push(a);
    if (product === 0 || product === 1) paying.push(a);
  }
  const everyAccount = Array.from({ length: nA }, (_, a) => a);

  return {
    seed,
    businessDate,
    businessDay,
    compactDate: businessDate.replace(/-/g, ''),
    sizes,
    currencies,
    rates,
    customer,
    account,
    accountIds: Array.from({ length: nA }, (_, a) => accountId(a)),
    transacting: Int32Array.from(transacting.length > 0 ? transacting : everyAccount),
    paying: Int32Array.from(paying.length > 0 ? paying : everyAccount),
    specials,
  };
}

export function sample(random: Random, values: readonly number[], count: number): number[] {
  const pool = [...values];
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + random.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

export function customerId(i: number): string {
  return `C${pad(1_000_000 + i, 10)}`;
}

export function accountId(a: number): string {
  return `A${pad(10_000_000 + a, 10)}`;
}
